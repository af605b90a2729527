"""Render the limits (auditor/limits.py) into docs/LIMITS.md.

    python scripts/render_limits_doc.py            # write docs/LIMITS.md
    python scripts/render_limits_doc.py --check    # exit 1 if docs/LIMITS.md is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from auditor.limits import ALL  # noqa: E402

DOC_PATH = ROOT / "docs" / "LIMITS.md"

HEADER = """# Limits on what the auditor reads

Generated from `auditor/limits.py` by `python scripts/render_limits_doc.py`: edit the data, not
this file. Every file an entrance reads goes through `auditor/sources/bounded_read.py`: only
regular files (a device such as `/dev/zero`, a pipe or a socket is refused), at most the size
below, and a value past a limit is one line naming the file (and the path or line inside it),
exit status 2, never a traceback, a hang or an exhausted memory. Keys written twice in one
mapping are refused the same way (which one counts is undefined), and so are `null` values in
a template, as CloudFormation refuses them. Where a limit is CloudFormation's own, a template
past it is one CloudFormation would refuse too.

Snapshot files are read at the JSON parser's own speed (they hold tens of megabytes): their
nesting is bounded by the shape check against botocore's models that follows
(`auditor/sources/shapes.py`), which also refuses `null` where AWS writes a value; keys written
twice in one object are not detected there (AWS never writes them; the same resource described
twice differently is refused). Live reads are bounded by the timeouts and attempts below and by
`--deadline SECONDS`; policy evaluation by the patterns per policy.

| limit | value | what it bounds | where the value comes from | past it |
|---|---|---|---|---|
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    rows = [f"| {limit.name} | {limit.value:,} {limit.unit} | {_cell(limit.bounds)} | "
            f"{_cell(limit.source)} | {_cell(limit.beyond)} |" for limit in ALL]
    return HEADER + "\n".join(rows) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = render()
    if args.check:
        if DOC_PATH.read_text() != text:
            print("docs/LIMITS.md is out of date: run python scripts/render_limits_doc.py")
            return 1
        return 0
    DOC_PATH.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
