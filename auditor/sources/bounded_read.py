"""Read JSON and YAML files within limits, and check the shape of what was read.

Every file an entrance reads (a template, a cdk.out manifest; later snapshots and the CDK app's
plan) goes through here, so that bad input is one line naming the file (and the path inside it)
instead of a traceback, a hang or an exhausted memory:

- only regular files are read (a device such as /dev/zero, a FIFO or a socket is refused), and
  at most the size limit the caller gives;
- nesting deeper than ``limits.NESTING_DEPTH`` is refused before Python's recursion limit;
- integers longer than Python converts, and numbers that are not finite (``Infinity``,
  ``NaN``, ``.inf``, ``1e999``), are refused;
- a key written twice in one mapping is refused (never "the last one wins" in silence);
- YAML aliases may repeat a value, not multiply a document past ``limits.EXPANDED_VALUES``
  (``load_yaml`` and its loader live in ``bounded_yaml``, imported on first use).

``expect`` checks the shape of a value where a caller relies on it, with the same kind of
message: ``cdk.out/manifest.json: artifacts.App.properties: expected a mapping, found a list``.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from auditor import limits
from auditor.errors import UsageError
from auditor.limits import Limit


def beyond(limit: Limit) -> str:
    """The end of a message about a value past ``limit``."""
    return f"the {limit.name} limit ({limit.value:,} {limit.unit}; see docs/LIMITS.md)"


# --- Files ------------------------------------------------------------------------------------


def file_kind(path: str | Path) -> str:
    """"file", "directory", "missing" or "other" (a device, a pipe, a name the system refuses:
    too long, a null byte), without raising."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return "missing"
    if stat.S_ISDIR(mode):
        return "directory"
    return "file" if stat.S_ISREG(mode) else "other"


def read_bytes(path: str | Path, what: str, limit: Limit,
               meter: Callable[[bytes], None] | None = None) -> bytes:
    """The content of a regular file of at most ``limit.value`` bytes.

    ``meter`` sees each chunk as it is read and may refuse the file (raising ``UsageError``)
    before the rest is read: the snapshot reader counts a whole run's bytes and values so.
    """
    try:
        # O_NONBLOCK: opening a FIFO without a writer must not wait for one.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise UsageError(f"{what} does not exist") from None
    except OSError as error:
        raise UsageError(f"cannot read {what}: {error.strerror}") from None
    except ValueError as error:  # a null byte in the name
        raise UsageError(f"cannot read {what}: {error}") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise UsageError(f"{what} is a directory, not a file")
        if not stat.S_ISREG(mode):
            raise UsageError(f"{what} is not a regular file (a device, pipe or socket): "
                             "refused")
        chunks: list[bytes] = []
        size = 0
        while size <= limit.value:
            chunk = os.read(descriptor, min(1 << 20, limit.value + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if meter is not None:
                meter(chunk)
    except OSError as error:
        raise UsageError(f"cannot read {what}: {error.strerror}") from None
    finally:
        os.close(descriptor)
    if size > limit.value:
        raise UsageError(f"{what} is larger than {beyond(limit)}")
    return b"".join(chunks)


def read_text(path: str | Path, what: str, limit: Limit,
              meter: Callable[[bytes], None] | None = None) -> str:
    """The UTF-8 text (a byte order mark allowed) of a regular file within ``limit``."""
    data = read_bytes(path, what, limit, meter)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UsageError(f"{what} is not UTF-8 text (byte {error.start})") from None


def read_json(path: str | Path, what: str, limit: Limit) -> Any:
    return parse_json(read_text(path, what, limit), what)


# --- JSON ----------------------------------------------------------------------------------


class _Refused(ValueError):
    """A value the reader refuses while parsing (raised inside the json hooks)."""


class _Duplicated(dict):
    """An object in which a key was written twice (found by ``check_tree``, never returned)."""

    duplicate: str = ""


def _pairs(pairs: list[tuple[str, Any]]) -> dict:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    seen: set[str] = set()
    marked = _Duplicated(result)
    marked.duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
    return marked


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > limits.INTEGER_DIGITS.value:
        raise _Refused(f"an integer of {len(text.lstrip('-')):,} digits is past "
                       f"{beyond(limits.INTEGER_DIGITS)}")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:40]} is out of range")
    return value


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def parse_json(text: str, what: str, fast: bool = False) -> Any:
    """JSON text as Python values, within the limits (one-line UsageError otherwise).

    ``fast``: at the JSON parser's own speed, for files of many megabytes. Keys written twice
    are not detected (the last one counts) and the depth is not walked here: the caller walks
    the value within ``limits.NESTING_DEPTH`` itself (the snapshot reader's shape check does).
    Integers longer than ``limits.INTEGER_DIGITS`` are still refused (by Python's own limit),
    and so are numbers that are not finite.
    """
    hooks: dict[str, Any] = {} if fast else {"object_pairs_hook": _pairs, "parse_int": _integer}
    try:
        value = json.loads(text, parse_float=_float, parse_constant=_constant, **hooks)
    except RecursionError:
        raise UsageError(f"{what} nests deeper than {beyond(limits.NESTING_DEPTH)}") from None
    except _Refused as error:
        raise UsageError(f"{what} is refused: {error}") from None
    except ValueError as error:  # JSONDecodeError and the like
        if "integer string conversion" in str(error):  # past Python's own integer limit
            raise UsageError(f"{what} is refused: an integer is past "
                             f"{beyond(limits.INTEGER_DIGITS)}") from None
        raise UsageError(f"{what} is not valid JSON: {error}") from None
    if not fast:
        check_tree(value, what)
    return value


def path_text(path: tuple[Any, ...]) -> str:
    """``("Resources", "App", "Properties", "NetworkInterfaces", 0)`` as
    ``Resources.App.Properties.NetworkInterfaces[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the top level"


def _containers(value: Any) -> Iterator[tuple[Any, Any]]:
    if isinstance(value, dict):
        return iter(value.items())
    if isinstance(value, list):
        return enumerate(value)
    return iter(())


def check_tree(value: Any, what: str, max_depth: int = limits.NESTING_DEPTH.value) -> None:
    """Refuse nesting deeper than ``max_depth`` and keys written twice, naming the path.
    Iterative: it never recurses, whatever the depth of what it is given."""
    stack: list[tuple[Any, int, tuple]] = [(value, 1, ())]
    while stack:
        node, depth, path = stack.pop()
        if isinstance(node, _Duplicated):
            raise UsageError(f"{what}: {path_text(path)}: the key {node.duplicate!r} is "
                             "written twice (which one counts is undefined: remove one)")
        if depth > max_depth:
            raise UsageError(f"{what}: {path_text(path)} nests deeper than "
                             f"{beyond(limits.NESTING_DEPTH)}")
        for key, child in _containers(node):
            if isinstance(child, dict | list):
                stack.append((child, depth + 1, (*path, key)))


def count_values(value: Any) -> int:
    """How many values (containers, keys, scalars) ``value`` holds, without recursing."""
    count = 0
    stack = [value]
    while stack:
        node = stack.pop()
        count += 1
        if isinstance(node, dict):
            count += len(node)
            stack += node.values()
        elif isinstance(node, list):
            stack += node
    return count


def texts(value: Any) -> Iterator[str]:
    """Every string ``value`` holds (keys and values), in order, without recursing."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            stack += reversed([part for pair in node.items() for part in pair])
        elif isinstance(node, list):
            stack += reversed(node)


def first_path(value: Any, predicate: Any) -> tuple | None:
    """The path of the first value (depth first, in order) for which ``predicate`` holds."""
    stack: list[tuple[Any, tuple]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if predicate(node):
            return path
        stack += reversed([(child, (*path, key)) for key, child in _containers(node)])
    return None


# --- YAML (auditor/sources/bounded_yaml.py) ----------------------------------------------------

_YAML_NAMES = ("BoundedLoader", "Refused", "load_yaml")


def __getattr__(name: str) -> Any:
    """The YAML reader, loaded on first use: PyYAML takes 30 ms to import, and the snapshot
    reader and the policy evaluator, on every audit's path, read only JSON."""
    if name in _YAML_NAMES:
        from auditor.sources import bounded_yaml

        return getattr(bounded_yaml, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- Shapes -----------------------------------------------------------------------------------

_KINDS: dict[str, tuple[type, ...]] = {
    "a mapping": (dict,), "a list": (list,), "text": (str,), "a boolean": (bool,),
}


def describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def expect(value: Any, kind: str, what: str, path: tuple = ()) -> Any:
    """``value`` when it is of ``kind`` ("a mapping", "a list", "text", "a boolean"), else a
    one-line UsageError naming the file, the path inside it and what was expected."""
    if isinstance(value, _KINDS[kind]) and not (kind != "a boolean" and isinstance(value, bool)):
        return value
    raise UsageError(f"{what}: {path_text(path)}: expected {kind}, found {describe(value)}")
