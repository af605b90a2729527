"""`--logs FILE` on an audit: give each log to its instance, then correlate.

Which instance a log belongs to: the audited instance whose id the log names; when the log
names none of them, the only audited instance. A log that names several audited instances, or
none while several are audited, is a usage error: the auditor never guesses.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from auditor.audit import AuditReport, InstanceAudit
from auditor.errors import UsageError
from auditor.logs.analysis import LogAnalysis, analyse, open_fifo
from auditor.logs.correlate import correlate
from auditor.logs.reader import CHUNK_BYTES

# Looking for every audited instance id in a log costs one pass per id: only for a few.
MAX_IDS_SEARCHED = 50


def _ids_in_file(path: str, instance_ids: list[str]) -> list[str]:
    """The instance ids that occur anywhere in the file (healthy lines included)."""
    if len(instance_ids) > MAX_IDS_SEARCHED:
        return []
    wanted = {iid: iid.encode() for iid in instance_ids}
    found: set[str] = set()
    tail = b""
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            data = tail + chunk
            found.update(iid for iid, needle in wanted.items() if needle in data)
            tail = data[-32:]
    return sorted(found)


def _owner(path: str, analysis: LogAnalysis, audits: dict[str, InstanceAudit],
           file: str) -> str:
    """``path`` as the user named it, ``file`` where it can be read again."""
    named = [iid for iid in analysis.instance_ids if iid in audits]
    if not named and len(audits) > 1:
        named = _ids_in_file(file, sorted(audits))
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise UsageError(f"--logs {path} names several audited instances ({', '.join(named)}): "
                         "split the log, or audit one instance with --instance")
    if len(audits) == 1:
        return next(iter(audits))
    raise UsageError(f"--logs {path} names none of the {len(audits)} audited instances: audit "
                     "its instance alone (--instance ID --logs FILE)")


def attach_logs(report: AuditReport, paths: list[str]) -> None:
    """Read every log, match it to an audited instance and set that audit's `logs`."""
    audits = {audit.instance.instance_id: audit for audit in report.instances}
    if not audits:
        raise UsageError("--logs needs at least one audited instance")
    with _streams_as_files(list(dict.fromkeys(paths))) as (files, names):
        _attach(audits, files, names)


def _is_stream(path: str) -> bool:
    """Standard input or a named pipe: what can be read only once."""
    if path == "-":
        return True
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except OSError:
        return False  # reading it will say why, in one line


@contextmanager
def _streams_as_files(paths: list[str]) -> Iterator[tuple[list[str], dict[str, str]]]:
    """Standard input and named pipes copied to temporary files: the logs of an instance that
    has several are read again together, and a stream cannot be read twice."""
    streams = [path for path in paths if _is_stream(path)]
    if not streams:
        yield paths, {}
        return
    with tempfile.TemporaryDirectory(prefix="ssm-auditor-logs-") as folder:
        copies: dict[str, str] = {}
        for index, path in enumerate(streams):
            copy = os.path.join(folder, f"{index}.log")
            source = sys.stdin.buffer if path == "-" else open_fifo(path)
            try:
                with open(copy, "wb") as out:
                    shutil.copyfileobj(source, out)
            finally:
                if source is not sys.stdin.buffer:
                    source.close()
            copies[path] = copy
        yield ([copies.get(path, path) for path in paths],
               {copy: "<stdin>" if path == "-" else path for path, copy in copies.items()})


def _attach(audits: dict[str, InstanceAudit], paths: list[str], names: dict[str, str]) -> None:
    by_instance: dict[str, list[tuple[str, LogAnalysis]]] = {}
    for path in paths:
        analysis = analyse([path], names)
        by_instance.setdefault(_owner(names.get(path, path), analysis, audits, path),
                               []).append((path, analysis))
    for instance_id, read in by_instance.items():
        analysis = read[0][1] if len(read) == 1 else analyse([path for path, _ in read], names)
        audit = audits[instance_id]
        audit.logs = {"inputs": analysis.inputs, "primary": analysis.primary,
                      "notes": analysis.notes, "diagnostics": analysis.checks,
                      "symptoms": correlate(audit, analysis)}
