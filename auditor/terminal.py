"""Text from logs and AWS data made safe for a terminal: control characters shown, never sent.

A log line, a tag, a rule description or a file name can carry ANSI/OSC escape sequences
(colour codes, a window title, a hyperlink, a cursor move that hides what came before) or
bidirectional overrides. The JSON report keeps such text verbatim (it is evidence); the text
report, the HTML report and the one-line errors show those characters as escapes (``\\x1b``),
all through ``visible``.
"""

from __future__ import annotations

import re

# C0 controls but tab and line feed, DEL, C1 controls, and the bidirectional overrides: a
# regular expression's character class (other outputs, the HTML report's, test for the same).
UNSAFE_CHARACTERS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{UNSAFE_CHARACTERS}]")
# The same, and tab and line feed: for text that must stay on one line.
_UNSAFE_ON_ONE_LINE = re.compile(f"[\t\n{UNSAFE_CHARACTERS}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, one_line: bool = False) -> str:
    """The text with every control character but tab and line feed (with ``one_line``, every
    one) written as an escape."""
    return (_UNSAFE_ON_ONE_LINE if one_line else _UNSAFE).sub(_escape, text)
