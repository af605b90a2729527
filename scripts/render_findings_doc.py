"""Render the finding catalogue (auditor/catalogue.py) into docs/FINDINGS.md.

    python scripts/render_findings_doc.py            # write docs/FINDINGS.md
    python scripts/render_findings_doc.py --check    # exit 1 if docs/FINDINGS.md is out of date

The rendering lives here, not in auditor/catalogue.py, to keep it off the auditor's import path.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from auditor.capability_facts import AWS_OWNED_BUCKETS, AWS_OWNED_BUCKETS_SOURCE  # noqa: E402
from auditor.catalogue import CATALOGUE, FindingKind  # noqa: E402

DOC_PATH = ROOT / "docs" / "FINDINGS.md"

CATEGORY_HEADINGS = {
    "network": "Network path",
    "dns": "DNS",
    "metadata": "Instance metadata service",
    "credentials": "Credentials",
    "permissions": "Permissions",
    "service_view": "What Systems Manager itself reports",
    "data": "What the auditor could not read",
    "session_manager": "Session Manager: sessions, their encryption and logs, who may connect",
    "patching": "Patching, inventory and Distributor",
}


def _anchor(code: str) -> str:
    # GitHub's anchor for a heading made of the code in backticks.
    return code.lower()


def _stack_text(item: FindingKind) -> str:
    if item.stack is None:
        return "none (not fixable as code; use the command in the fix)"
    return f"`{item.stack}`"


def _section(item: FindingKind) -> list[str]:
    labels = ", ".join(f"`{label}`" for label in item.log_labels) or "none"
    lines = [
        f"### `{item.code}`",
        "",
        f"**{item.title}**",
        "",
        f"- Category: `{item.category}`",
        f"- Default severity: `{item.severity}`",
        f"- Log symptom labels it can explain: {labels}",
        f"- Remediation stack: {_stack_text(item)}",
        "",
        f"**What it means.** {item.meaning}",
        "",
    ]
    if item.agent_log:
        lines += [
            "**What the agent logs** (line shapes; addresses, names and ids vary):",
            "",
            "```text",
            *item.agent_log.splitlines(),
            "```",
        ]
    else:
        lines.append("**What the agent logs.** Nothing specific.")
    lines += ["", f"**How to fix.** {item.fix}", ""]
    return lines


def render_markdown() -> str:
    """The whole of docs/FINDINGS.md, rendered from CATALOGUE."""
    lines = [
        "<!-- Generated from auditor/catalogue.py by scripts/render_findings_doc.py;"
        " do not edit by hand. -->",
        "",
        "# Finding codes",
        "",
        "Every finding the auditor reports carries one of these codes. The severity shown is the",
        "default; the auditor may report a finding at another severity where the case calls for",
        "it. Network and DNS findings name the service they affect (`ssm`, `ssmmessages` or",
        "`ec2messages`). Log symptom labels are those of `python -m auditor logs`.",
        "",
        "| Code | Category | Default severity | Title | Remediation stack |",
        "|---|---|---|---|---|",
    ]
    for item in CATALOGUE.values():
        stack = f"`{item.stack}`" if item.stack else "none"
        lines.append(
            f"| [`{item.code}`](#{_anchor(item.code)}) | {item.category} | {item.severity} "
            f"| {item.title} | {stack} |"
        )
    lines.append("")
    category = None
    for item in CATALOGUE.values():
        if item.category != category:
            category = item.category
            lines += [f"## {CATEGORY_HEADINGS.get(category, category)}", ""]
        lines += _section(item)
    lines += _owned_buckets()
    return "\n".join(lines).rstrip("\n") + "\n"


def _owned_buckets() -> list[str]:
    """The AWS-owned buckets the patching proof reads (capability_facts), with the source."""
    lines = ["## AWS-owned buckets the agent reads", "",
             "What `PATCH_S3_UNREACHABLE` and `PATCH_S3_DENIED` are about: `s3:GetObject` on every",
             "object of these buckets of the instance's region (`{region}` stands for it). Source:",
             f"{AWS_OWNED_BUCKETS_SOURCE}.", "",
             "| Bucket | What it holds | Platforms |", "|---|---|---|"]
    lines += [f"| `{bucket.name}` | {bucket.purpose} | {', '.join(bucket.platforms)} |"
              for bucket in AWS_OWNED_BUCKETS]
    return [*lines, ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the file differs from the rendering"
    )
    parser.add_argument("--path", type=Path, default=DOC_PATH, help="default: docs/FINDINGS.md")
    args = parser.parse_args(argv)
    rendered = render_markdown()
    if args.check:
        try:
            current = args.path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != rendered:
            print(
                f"{args.path} is out of date; run: python scripts/render_findings_doc.py",
                file=sys.stderr,
            )
            return 1
        return 0
    args.path.parent.mkdir(parents=True, exist_ok=True)
    args.path.write_text(rendered, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
