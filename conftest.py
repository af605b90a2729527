"""Root conftest: its presence makes pytest put the repository root on sys.path.

The tests import ``builders`` (synthetic estates shared with scripts/) as well as ``auditor``;
with this file they do so whether pytest is started as ``pytest`` or as ``python -m pytest``.
"""

import os

# The CDK tests run jsii on Node 20: keep its end-of-life banner out of the output. Set before
# any test module imports aws_cdk (jsii reads them when it starts Node).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("NODE_NO_WARNINGS", "1")
