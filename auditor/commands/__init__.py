"""The commands of ``python -m auditor``: one module each, ``auditor/commands/<name>.py``.

A command module holds its parser and ``run(argv: list[str]) -> int`` (the exit status); it
reads its input through ``sources``, calls a library pipeline (``audit.run_audit``,
``prelaunch.check``, ``remediation.verify``, ``remediation.planner``) and prints with
``reports``. ``common`` is what they share (the one-line parser, colour, live progress, the
report printer). A new command joins by adding its module: ``python -m auditor NAME ...``
runs it. Without a command name, the arguments are the audit's (``audit``).
"""

from __future__ import annotations

from auditor.modules import module_names

DEFAULT_COMMAND = "audit"
_NOT_COMMANDS = {"common", DEFAULT_COMMAND}


def commands() -> set[str]:
    """The names a first argument may give (the audit is run without one)."""
    return {name for name in module_names(__path__)
            if name not in _NOT_COMMANDS and not name.startswith("_")}
