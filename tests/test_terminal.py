"""Control characters from logs and AWS data are shown, not sent (issue 17): one function,
``terminal.visible``, for the text report, the logs command, the HTML report and the one-line
errors."""

from __future__ import annotations

import re

import pytest

from auditor.cli import main
from auditor.terminal import visible
from tests.html_reports import hostile_estate

# What a terminal acts on: C0 but tab and line feed, DEL, C1, bidirectional overrides.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize(("text", "shown"), [
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
    ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
    ("\x9b2J", "\\x9b2J"),
    ("a\x00b\x7fc\rd", "a\\x00b\\x7fc\\x0dd"),
    ("\u202eevil\u2066", "\\u202eevil\\u2066"),
    ("tab\tand\nline", "tab\tand\nline"),
    ("é 東京 \u2028 ✓", "é 東京 \u2028 ✓"),
])
def test_visible_shows_what_a_terminal_would_act_on(text: str, shown: str) -> None:
    assert visible(text) == shown
    assert not _UNSAFE.search(visible(text))


def test_one_line_also_shows_tabs_and_line_feeds() -> None:
    assert visible("a\tb\nc\x1b", one_line=True) == "a\\x09b\\x0ac\\x1b"


# A name holding escape sequences, and one holding what the painter's own placeholders look
# like: neither may reach the terminal as a code.
HOSTILE = "\x1b]0;owned\x07\x1b[2J\x1b[31m\u202e\ue00031\ue001x"


@pytest.mark.parametrize("colour", ["always", "never"])
def test_the_text_report_sends_only_its_own_colour_codes(capsys, tmp_path, colour) -> None:
    snapshot = hostile_estate(tmp_path, HOSTILE)

    code = main(["--all", "--snapshot", str(snapshot), "--format", "text", "--color", colour,
                 "-v"])

    out = capsys.readouterr().out
    assert code in (0, 1, 3)
    codes = re.findall("\x1b\\[[0-9]+m", out)
    assert bool(codes) == (colour == "always")
    assert not _UNSAFE.search(re.sub("\x1b\\[[0-9]+m", "", out))  # nothing else raw
    assert visible(HOSTILE) in out  # the name, shown
    assert "\ue00031\ue001x" in out  # the forged placeholder, left as text


def test_one_line_errors_show_control_characters(capsys, tmp_path) -> None:
    code = main(["--all", "--snapshot", str(tmp_path / "a\x1b[2J\nb")])

    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "a\\x1b[2J\\x0ab" in err
