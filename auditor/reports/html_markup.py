"""Markup for the HTML report: escaping, safe JSON for scripts, the words and marks of statuses.

Every value that comes from AWS data (tag values, policy names, rule texts, log lines) reaches
the page through ``text`` (element content and attributes alike) or ``script_json``: nothing
here trusts its input. Both show control characters as escapes through ``terminal.visible``,
the text report's function: the page holds none, also when it is written to a terminal.
Statuses are never told by colour alone: each has a mark and a word.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from html import escape
from typing import Any

from auditor.terminal import UNSAFE_CHARACTERS, visible
from auditor.vocabulary import (
    BLOCKED,
    FAIL,
    MANAGEABLE,
    NOT_APPLICABLE,
    NOT_MANAGEABLE,
    OK,
    REACHABLE,
    UNKNOWN,
)

# What a status is: good, bad, undecided or neutral. The CSS classes are one letter (g, r, a, n:
# green, red, amber, neutral grey), since a fleet's page holds a hundred thousand of them; the
# style sheet writes the mark before the word, so colour is never the only signal.
GOOD, BAD, UNDECIDED, NEUTRAL = "g", "r", "a", "n"
_KINDS = {
    MANAGEABLE: GOOD, REACHABLE: GOOD, OK: GOOD, "allow": GOOD,
    NOT_MANAGEABLE: BAD, BLOCKED: BAD, FAIL: BAD, "deny": BAD, "error": BAD,
    "confirmed": BAD,
    UNKNOWN: UNDECIDED, "warning": UNDECIDED, "unexplained": UNDECIDED,
    "contradicted": UNDECIDED,
    NOT_APPLICABLE: NEUTRAL, "info": NEUTRAL,
}
MARKS = {GOOD: "\u2714", BAD: "\u2716", UNDECIDED: "?", NEUTRAL: "\u2013"}  # check, cross, ?, dash
_WORDS = {NOT_MANAGEABLE: "not manageable", NOT_APPLICABLE: "not applicable"}
_SPECIAL = re.compile(f"[&<>\"'{UNSAFE_CHARACTERS}]")


def text(value: object) -> str:
    """Any value as text safe in element content and in quoted attribute values; its control
    characters shown as escapes (``visible``), as the text report shows them."""
    if value is None:
        return ""
    value = value if value.__class__ is str else str(value)
    return escape(visible(value), quote=True) if _SPECIAL.search(value) else value


def kind(status: str | None) -> str:
    return _KINDS.get(status or "", UNDECIDED if status else NEUTRAL)


def word(status: str | None) -> str:
    return _WORDS.get(status or "", (status or "none").replace("_", " "))


_BADGES: dict[str | None, str] = {}  # the statuses are a few words


def badge(status: str | None, label: str | None = None) -> str:
    """A status as its mark (drawn by the style sheet) and word, coloured by its kind."""
    if label is not None:
        return f'<span class="b {kind(status)}">{text(label)}</span>'
    found = _BADGES.get(status)
    if found is None:
        found = _BADGES[status] = f'<span class="b {kind(status)}">{text(word(status))}</span>'
    return found


def attributes(**values: object) -> str:
    """` name="value"` pairs (a trailing ``_`` dropped, ``_`` inside as ``-``); None omitted."""
    return "".join(f' {name.rstrip("_").replace("_", "-")}="{text(value)}"'
                   for name, value in values.items() if value is not None)


def element(tag: str, content: str = "", **attrs: object) -> str:
    """``content`` is markup already (escape text with ``text``)."""
    return f"<{tag}{attributes(**attrs)}>{content}</{tag}>"


def join(parts: Iterable[str], separator: str = "") -> str:
    return separator.join(parts)


def anchor(instance_id: str) -> str:
    """The id of an instance's section: ids are unique in a report, made safe for a URL."""
    return "i-" + "".join(c if c.isalnum() or c in "-_." else f"_{ord(c):x}_"
                          for c in instance_id.removeprefix("i-"))


_SCRIPT_ESCAPES = (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"),
                   ("\u2029", "\\u2029"))


# In JSON text: a control character raw (DEL, C1, bidirectional) or escaped (C0 but \n and \t).
_CONTROL_IN_JSON = re.compile(rf"[{UNSAFE_CHARACTERS}]|\\u00[01]|\\[bfr]")


def script_json(data: Any) -> str:
    """JSON to embed in ``<script type="application/json">``: no ``</script>``, ``<!--`` or
    line separator can end or bend the element, whatever the data holds; the strings'
    control characters shown as escapes (``visible``), as the page's own text shows them."""
    encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if _CONTROL_IN_JSON.search(encoded):  # rare: walk the data only then
        encoded = json.dumps(_visible_strings(data), ensure_ascii=False, separators=(",", ":"))
    for character, escaped in _SCRIPT_ESCAPES:
        encoded = encoded.replace(character, escaped)
    return encoded


def _visible_strings(value: Any) -> Any:
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {_visible_strings(key): _visible_strings(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_visible_strings(item) for item in value]
    return value


def csp_hash(source: str) -> str:
    """The Content-Security-Policy source that allows exactly this inline script or style."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def generic(value: Any, depth: int = 0) -> str:
    """Any JSON value of the report as markup: what a renderer does not know by name (a field
    another version adds) is still shown, escaped."""
    if isinstance(value, dict):
        if not value:
            return '<span class="none">none</span>'
        if depth > 4:
            return element("code", text(json.dumps(value, default=str)))
        return element("dl", "".join(f"<dt>{text(key)}</dt><dd>{generic(item, depth + 1)}</dd>"
                                     for key, item in value.items()), class_="kv")
    if isinstance(value, list):
        if not value:
            return '<span class="none">none</span>'
        if all(not isinstance(item, dict | list) for item in value):
            return text(", ".join(str(item) for item in value))
        return element("ul", "".join(f"<li>{generic(item, depth + 1)}</li>" for item in value),
                       class_="kv")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return text(value)


def command(source: str) -> str:
    """A command to run; the script puts a copy button beside it (without it, select it)."""
    return f'<code class="cmd">{text(source)}</code>'


def with_commands(prose: str) -> str:
    """Catalogue prose whose `back-quoted` parts are commands."""
    parts = prose.split("`")
    if len(parts) % 2 == 0:  # an unpaired back quote: all prose
        return text(prose)
    return "".join(command(part) if index % 2 else text(part)
                   for index, part in enumerate(parts))
