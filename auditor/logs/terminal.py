"""Text from a log made safe for a terminal: control characters shown, never emitted.

A log line can carry ANSI/OSC escape sequences (colour codes, a window title, a hyperlink, a
cursor move that hides what came before) or bidirectional overrides. The JSON report keeps the
line verbatim (it is evidence); the text report shows such characters as escapes (``\\x1b``).
"""

from __future__ import annotations

import re

# C0 controls but tab and line feed, DEL, C1 controls, and the bidirectional overrides.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """The text with every control character but tab and line feed written as an escape."""
    return _UNSAFE.sub(_escape, text)
