"""The YAML half of the bounded reader (``bounded_read`` holds the files, JSON and shapes).

Reached as ``bounded_read.load_yaml``, ``bounded_read.BoundedLoader`` and
``bounded_read.Refused``: PyYAML is imported only when an entrance reads YAML.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from auditor import limits
from auditor.errors import UsageError
from auditor.sources.bounded_read import beyond


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
