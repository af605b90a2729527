"""The glob patterns of IAM policies, compiled once: actions, resources, condition values.

Used by the policy evaluator (``analysis``) and by the template reader (``sources``), which
needs to know whether a statement can name one of the agent's actions.
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=8192)
def glob_regex(text: str, ignore_case: bool = False, arn_parts: bool = False) -> re.Pattern[str]:
    """A compiled whole-string glob; see ``compile_pieces``. Cached: fleets repeat patterns."""
    return compile_pieces([(text, True)], wildcards=True, ignore_case=ignore_case,
                          arn_parts=arn_parts)


def compile_pieces(pieces: list[tuple[str, bool]], *, wildcards: bool, ignore_case: bool,
                   arn_parts: bool) -> re.Pattern[str]:
    """A regex for (piece, from the policy itself) pairs: only the policy's own text carries
    wildcards (``*`` any run, ``?`` one character); with ``arn_parts`` they stay within each of
    the first five colon-separated parts."""
    out: list[str] = []
    colons = 0
    for piece, own_text in pieces:
        if not own_text:
            out.append(re.escape(piece))
            continue
        for char in piece:
            bounded = arn_parts and colons < 5
            if wildcards and char == "*":
                out.append("[^:]*" if bounded else ".*")
            elif wildcards and char == "?":
                out.append("[^:]" if bounded else ".")
            else:
                colons += char == ":"
                out.append(re.escape(char))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(out), flags)


def action_matches(pattern: str, action: str) -> bool:
    """Whether a policy's action pattern covers ``action``: a case-insensitive whole-string glob."""
    return glob_regex(pattern, True).fullmatch(action) is not None


class GlobSet:
    """Many whole-string globs (``*`` any run, ``?`` one character) matched at once.

    A text without a wildcard is looked up in a set and ``prefix*`` by the text's own prefixes
    (so thousands of them cost what a few do); only the other globs are regexes, compiled once
    here rather than through ``glob_regex``'s cache, which thousands of distinct patterns
    would flush on every request.
    """

    def __init__(self, patterns: tuple[str, ...], ignore_case: bool) -> None:
        fold = str.lower if ignore_case else str
        self._fold = fold
        self._exact: set[str] = set()
        self._prefixes: set[str] = set()
        self._others: list[re.Pattern[str]] = []
        for pattern in patterns:
            wild = pattern.find("*"), pattern.find("?")
            if wild == (-1, -1):
                self._exact.add(fold(pattern))
            elif wild[1] == -1 and wild[0] == len(pattern) - 1:
                self._prefixes.add(fold(pattern[:-1]))
            else:
                self._others.append(compile_pieces([(pattern, True)], wildcards=True,
                                                   ignore_case=ignore_case, arn_parts=False))

    def matches(self, text: str) -> bool:
        folded = self._fold(text)
        if folded in self._exact:
            return True
        if self._prefixes and any(folded[:end] in self._prefixes
                                  for end in range(len(folded) + 1)):
            return True
        return any(regex.fullmatch(text) is not None for regex in self._others)
