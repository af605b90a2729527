"""What the fuzz tests of the entrances share: junk of every JSON kind, and a path drawn into a
document to put it at (tests/test_prelaunch_fuzz.py, tests/test_snapshot_fuzz.py)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from auditor.sources.bounded_read import describe


def numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# Text that is not a boolean or a number written as text (another reading of those may be a
# legitimate value).
JUNK_TEXT = st.text(max_size=30).filter(
    lambda text: text.strip().lower() not in ("true", "false") and not numeric(text))
SCALARS = st.one_of(st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
                    st.floats(allow_nan=False, allow_infinity=False), JUNK_TEXT)
JUNK = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(JUNK_TEXT, inner, max_size=3)), max_leaves=6)


def other_type(value: Any) -> st.SearchStrategy:
    """A value of another category than ``value`` (never the same kind of value: another
    value of the same kind may be a legitimate change)."""
    return JUNK.filter(lambda junk: describe(junk) != describe(value))


def steps(body: Any, data: st.DataObject, deeper: int = 4) -> list:
    """A path into the document, drawn step by step (each step taken ``deeper`` times in
    ``deeper + 1``)."""
    path: list = []
    node = body
    while isinstance(node, dict | list) and node and data.draw(st.integers(0, deeper)) > 0:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = data.draw(st.sampled_from(keys))
        path.append(key)
        node = node[key]
    return path


def at(body: Any, path: list) -> Any:
    for key in path:
        body = body[key]
    return body


def replace(body: Any, path: list, value: Any) -> Any:
    """A copy of ``body`` with ``value`` at ``path``."""
    if not path:
        return value
    body = copy.deepcopy(body)
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return body
