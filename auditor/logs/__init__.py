"""SSM Agent logs: read them as a stream, name their symptoms, hold them against the proof.

reader (lines, prefixes, records) -> symptoms (the catalogue, as data) -> classify (tallies,
primary) -> analysis (files, stdin, ssm-cli diagnostics) -> command (`logs`), and correlate /
attach for `--logs` on an audit.
"""
