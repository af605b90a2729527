"""Every pattern of the log reader and classifier runs in linear time on hostile lines.

A pattern with an unbounded gap after a prefix that can occur many times on a line
(``dial tcp[^\\n]*(...)``) rescans the rest of the line from each occurrence: 4 lines of 63 KB took
57 s. The patterns bound their gaps; this test proves it on long adversarial lines built from
each pattern's own literals, and checks statically that no unbounded repetition nests another.
"""

from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parse
import time
from collections.abc import Iterator

import pytest

from auditor.logs import classify, diagnostics, fields, reader, symptoms
from auditor.logs.classify import Classifier, labels_of
from auditor.logs.reader import MAX_LINE_BYTES, Record

LINE = MAX_LINE_BYTES  # the longest line the reader hands on
# Linear patterns take milliseconds on such a line; a quadratic one takes tens of seconds.
MAX_SECONDS_PER_SEARCH = 1.0


def _all_patterns() -> Iterator[tuple[str, re.Pattern[str]]]:
    for module in (reader, symptoms, classify, fields, diagnostics):
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern):
                yield f"{module.__name__}.{name}", value
    for symptom in symptoms.SYMPTOMS:
        for index, pattern in enumerate(symptom.patterns):
            yield f"{symptom.label}[{index}]", pattern.regex
            if pattern.unless is not None:
                yield f"{symptom.label}[{index}].unless", pattern.unless
        for clue in symptom.clues:
            yield f"{symptom.label}.clue.{clue.name}", clue.regex


PATTERNS = dict(_all_patterns())


def _literals(parsed: sre_parse.SubPattern) -> Iterator[str]:
    """The runs of literal characters in a parsed pattern (its words: "dial tcp", "169.254")."""
    run: list[str] = []
    for op, arg in parsed:
        if op is sre_constants.LITERAL:
            run.append(chr(arg))
            continue
        if len(run) >= 3:
            yield "".join(run)
        run = []
        for child in _children(op, arg):
            yield from _literals(child)
    if len(run) >= 3:
        yield "".join(run)


def _children(op, arg) -> list[sre_parse.SubPattern]:
    if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
        return [arg[2]]
    if op is sre_constants.SUBPATTERN:
        return [arg[-1]]
    if op is sre_constants.BRANCH:
        return list(arg[1])
    if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
        return [arg[1]]
    if op is sre_constants.ATOMIC_GROUP:
        return [arg]
    return []


def _nested_unbounded(parsed: sre_parse.SubPattern, inside: bool = False) -> bool:
    for op, arg in parsed:
        unbounded = op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) \
            and arg[1] == sre_constants.MAXREPEAT
        if unbounded and inside:
            return True
        if any(_nested_unbounded(child, inside or unbounded) for child in _children(op, arg)):
            return True
    return False


def _hostile_lines(pattern: re.Pattern[str]) -> Iterator[str]:
    """Long lines that make a pattern try hard: filler characters, and each of its words
    repeated back to back and with spaces, so that every prefix matches everywhere."""
    for filler in ("a", " ", "0", ".", "-", "/", ":"):
        yield filler * LINE
    words = sorted(set(_literals(sre_parse.parse(pattern.pattern, pattern.flags))),
                   key=len, reverse=True)[:6]
    for word in words:
        yield (word * (LINE // len(word) + 1))[:LINE]
        yield ((word + " ") * (LINE // (len(word) + 1) + 1))[:LINE]
    if words:
        mixed = " ".join(words) + " "
        yield (mixed * (LINE // len(mixed) + 1))[:LINE]


def test_the_patterns_are_all_found():
    assert len(PATTERNS) > 40
    assert "endpoint_unreachable[0]" in PATTERNS


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_no_pattern_nests_unbounded_repetition(name):
    pattern = PATTERNS[name]
    assert not _nested_unbounded(sre_parse.parse(pattern.pattern, pattern.flags)), name


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_every_pattern_takes_linear_time_on_a_long_hostile_line(name):
    pattern = PATTERNS[name]
    for line in _hostile_lines(pattern):
        elapsed = _seconds(pattern, line)
        assert elapsed < MAX_SECONDS_PER_SEARCH, (name, line[:40], elapsed)


def test_a_quadratic_pattern_would_be_caught():
    """The check can fail: the pattern this test was written against takes far longer than its
    bounded replacement on the same hostile line."""
    line = ("dial tcp " * (LINE // 9 + 1))[: LINE // 2]
    assert _seconds(re.compile(r"dial tcp[^\n]*(?:i/o timeout|refused)"), line) > \
        10 * _seconds(PATTERNS["endpoint_unreachable[0]"], line)


def _seconds(pattern: re.Pattern[str], line: str) -> float:
    """CPU seconds, not wall: the bound must hold on a loaded CI machine too."""
    started = time.process_time()
    for _ in pattern.finditer(line):
        pass
    return max(time.process_time() - started, 1e-4)


def test_a_record_of_hostile_lines_is_judged_quickly():
    words = ("dial tcp lookup 169.254.169.254 RequestManagedInstanceRoleToken proxy "
             "[CredentialRefresher] hibernate ")
    lines = tuple((words * (LINE // len(words) + 1))[:LINE]
                  for _ in range(reader.MAX_CONTINUATIONS))
    record = Record(lines, lines, None, "hostile")
    started = time.process_time()
    labels_of(record.text)
    Classifier().feed(record)
    assert time.process_time() - started < 5 * MAX_SECONDS_PER_SEARCH
