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
- YAML aliases may repeat a value, not multiply a document past ``limits.EXPANDED_VALUES``.

``expect`` checks the shape of a value where a caller relies on it, with the same kind of
message: ``cdk.out/manifest.json: artifacts.App.properties: expected a mapping, found a list``.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

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


def read_bytes(path: str | Path, what: str, limit: Limit) -> bytes:
    """The content of a regular file of at most ``limit.value`` bytes."""
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
    except OSError as error:
        raise UsageError(f"cannot read {what}: {error.strerror}") from None
    finally:
        os.close(descriptor)
    if size > limit.value:
        raise UsageError(f"{what} is larger than {beyond(limit)}")
    return b"".join(chunks)


def read_text(path: str | Path, what: str, limit: Limit) -> str:
    """The UTF-8 text (a byte order mark allowed) of a regular file within ``limit``."""
    data = read_bytes(path, what, limit)
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


def parse_json(text: str, what: str) -> Any:
    """JSON text as Python values, within the limits (one-line UsageError otherwise)."""
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_int=_integer,
                           parse_float=_float, parse_constant=_constant)
    except RecursionError:
        raise UsageError(f"{what} nests deeper than {beyond(limits.NESTING_DEPTH)}") from None
    except _Refused as error:
        raise UsageError(f"{what} is refused: {error}") from None
    except ValueError as error:  # JSONDecodeError and the like
        raise UsageError(f"{what} is not valid JSON: {error}") from None
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


# --- YAML -----------------------------------------------------------------------------------


class Refused(yaml.YAMLError):
    """A YAML value or document the reader refuses: a limit, a duplicate key, a number."""

    def __init__(self, message: str, mark: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


class BoundedLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` within the limits: nesting depth, values after alias expansion,
    duplicate keys, integer length, finite numbers."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > limits.NESTING_DEPTH.value:
                raise Refused(f"nests deeper than {beyond(limits.NESTING_DEPTH)}",
                              self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> Any:
        node = super().compose_document()
        _check_expansion(node)
        return node

    def construct_mapping(self, node: Any, deep: bool = False) -> dict:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key, _ in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                    continue
                if key.value in seen:
                    raise Refused(f"the key {key.value!r} is written twice in one mapping "
                                  f"(lines {seen[key.value].line + 1} and "
                                  f"{key.start_mark.line + 1}; which one counts is undefined: "
                                  "remove one)", key.start_mark)
                seen[key.value] = key.start_mark
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: Any) -> int:
        digits = str(node.value).lstrip("+-").replace("_", "")
        if len(digits) > limits.INTEGER_DIGITS.value:
            raise Refused(f"an integer of {len(digits):,} digits is past "
                          f"{beyond(limits.INTEGER_DIGITS)}", node.start_mark)
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node: Any) -> float:
        value = super().construct_yaml_float(node)
        if not math.isfinite(value):
            raise Refused(f"the number {str(node.value)[:40]} is not finite", node.start_mark)
        return value


BoundedLoader.add_constructor("tag:yaml.org,2002:int", BoundedLoader.construct_yaml_int)
BoundedLoader.add_constructor("tag:yaml.org,2002:float", BoundedLoader.construct_yaml_float)


def _children(node: Any) -> list:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_expansion(root: Any) -> None:
    """Count the values the document holds once its aliases are expanded (each distinct node
    is visited once), refusing a document past the limit or an alias inside its own anchor."""
    limit = limits.EXPANDED_VALUES
    sizes: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            active.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] > limit.value:
                raise Refused(f"its aliases expand it past {beyond(limit)}", node.start_mark)
            continue
        if key in sizes:
            continue
        if key in active:
            raise Refused("an alias is used inside the value it names (an endless value)",
                          node.start_mark)
        active.add(key)
        stack.append((node, True))
        stack += [(child, False) for child in _children(node)]


def load_yaml(text: str, what: str, loader_class: type[BoundedLoader] = BoundedLoader) -> Any:
    """One YAML document as Python values, within the limits (one-line UsageError)."""
    loader = None
    try:
        loader = loader_class(text)  # it reads the first characters already
        return loader.get_single_data()
    except Refused as error:
        where = f" (line {error.mark.line + 1})" if error.mark else ""
        raise UsageError(f"{what}{where} is refused: {error.message}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise UsageError(f"{what} is not valid YAML{where}: {problem}") from None
    except (ValueError, TypeError, RecursionError) as error:  # a constructor's own failure
        raise UsageError(f"{what} is not valid YAML: {error}") from None
    finally:
        if loader is not None:
            loader.dispose()


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
