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
