"""Synthetic estates (and a browser) shared by tests/, scripts/ (benchmarks, the demo
generator) and nobody else.

- ``estate_builder``: raw API answers (the AWS CLI's JSON shape) built without AWS;
- ``demo_estate``: the bundled demo estate (demo/estate) described with it;
- ``moto_layout``: one VPC seeded in moto through the EC2 API;
- ``sessions``: boto3 sessions with event handlers registered first (answer, delay, watch calls);
- ``fleet_estate``: the benchmarks' synthetic fleet (10,000 instances in 200 VPCs);
- ``headless_chromium``: a headless Chromium driven through the DevTools protocol, for the
  HTML report's browser tests and benchmark.

Neither tests/ nor scripts/ own these: tests never import scripts/ helpers and scripts never
import tests/. Not part of the installed package.
"""
