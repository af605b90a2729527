"""CloudFormation templates as a source: planned resources laid over a real (or empty) estate.

``load`` reads templates (JSON, YAML with short-form tags, a ``cdk.out`` directory),
``intrinsics`` resolves values, ``network``/``iam``/``compute`` turn resources into raw API
answers, and ``overlay`` merges them into a ``RawRegion`` that ``sources.parse`` reads as usual.
"""
