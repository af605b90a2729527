"""Root conftest: its presence makes pytest put the repository root on sys.path.

The tests import ``scripts.estate_builder`` as well as ``auditor``; with this file they do so
whether pytest is started as ``pytest`` or as ``python -m pytest``.
"""
