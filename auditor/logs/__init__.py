"""SSM Agent logs: read them as a stream, name their symptoms, hold them against the proof.

reader (lines, prefixes, records) -> symptoms (the catalogue, as data) -> classify (tallies,
primary) -> analysis (files, stdin, ssm-cli diagnostics), and correlate / attach for `--logs` on
an audit. The `logs` command is auditor/commands/logs.py, its report
auditor/reports/log_symptoms.py.
"""
