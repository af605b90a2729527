"""Every raw answer checked against the output shape of its operation in botocore's models.

The auditor reads AWS answers from two places, a snapshot file and a live call, and both are
checked here before anything reads them: ``check_answer(call, answer, what)`` walks the answer
along the output shape botocore's service model gives the call's operation (so a call added to
``api_calls`` is checked without more code) and raises a one-line ``UsageError`` naming the
file or answer, the path inside it and what was expected::

    snap/eu-west-1/describe-instances.json: Reservations[0].Instances[3].State: expected a
    mapping (InstanceState), found text

What is checked:

- the answer has the operation's output form: a mapping holding the call's result key (the
  AWS CLI always prints it, an empty list when there is nothing), or for a per-resource call a
  list of such mappings, each of which may also carry the request's own identifying parameter
  (``PrefixListId``, ``PolicyArn``...), as ``live`` stores them, or in place of the result
  the reason its request failed (``"Error"``: text), which makes that resource alone unknown;
- every member the shape knows has its type: a mapping for a structure, a list for a list,
  text for a string or a timestamp (a number too: the raw JSON APIs give epoch seconds), a
  JSON number for integers (never a boolean), ``true``/``false`` for a boolean (never the text
  ``"false"``); a policy document may be a JSON object (the AWS CLI decodes IAM's);
- a key that differs from a member's name only by case or spaces (``instanceId``,
  ``reservations``: the output of ``--query`` or of another tool) is refused, not ignored;
- nothing nests deeper than ``limits.NESTING_DEPTH``: along the shape the model bounds the
  depth (a recursive shape is counted), and a value under a key the model does not know (a
  field newer than the installed botocore) is walked for depth only.

``null`` is refused (AWS never writes it, and read as "absent" it would drop a deny
statement or a permissions boundary in silence), but for the members listed in
``NULL_MEANS_UNKNOWN``, which the parser reads as unknown (an instance's ``State``), and a
single resource's result that is not a list (``{"ServiceSetting": null}``, a session
document's ``{"Content": null}``, a bucket's ``{"Policy": null}``: AWS said there is none).
Enumerations are not checked here (AWS adds values before botocore knows them): the parser
reads the ones it interprets exactly (``parse``), and anything else is ``unknown``.

The shapes come from botocore's loader, lazily (only when an answer is checked) and cached:
in memory, and on disk (``$XDG_CACHE_HOME/ssm-auditor``, or ``SSM_AUDITOR_CACHE_DIR``; empty
for none) keyed by the installed botocore, because importing botocore's loader and reading the
EC2 model costs a quarter of a second, as much as a whole audit of the demo estate.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from auditor import limits
from auditor.errors import UsageError
from auditor.sources.api_calls import ApiCall
from auditor.sources.bounded_read import beyond, check_tree, describe, path_text

CACHE_FORMAT = 1  # change when the cached form below changes
# Strings that hold a policy document: the AWS CLI decodes IAM's into JSON objects, and people
# write the others so too.
_DOCUMENT_SHAPES = frozenset({"policyDocumentType", "PolicyContent"})
_DOCUMENT_MEMBER_SUFFIX = "PolicyDocument"
# (structure shape, member) whose null the parser reads as "not known", never as a value.
NULL_MEANS_UNKNOWN = frozenset({("Instance", "State")})

# The Python types a JSON value of each scalar shape type may have (bool is not an int here:
# membership is tested on the exact class).
_SCALARS: dict[str, tuple[frozenset[type], str]] = {
    "string": (frozenset({str}), "text"),
    "blob": (frozenset({str}), "text"),
    "boolean": (frozenset({bool}), "a boolean (true or false)"),
    "integer": (frozenset({int}), "an integer"),
    "long": (frozenset({int}), "an integer"),
    "float": (frozenset({int, float}), "a number"),
    "double": (frozenset({int, float}), "a number"),
    "timestamp": (frozenset({str, int, float}), "a time (text or seconds)"),
    "document": (frozenset({str, dict}), "a policy document (text or a mapping)"),
}


class _Mismatch(Exception):
    """A value that does not fit its shape; ``path`` is filled in on the way out."""

    def __init__(self, expected: str, found: str, key: Any = None) -> None:
        super().__init__(expected)
        self.expected = expected
        self.found = found  # in words: "text", "a list", "the key 'instanceId'"...
        self.path: list[Any] = [] if key is None else [key]


# --- The shapes, from botocore (cached) --------------------------------------------------------


def _extract(model: dict, roots: list[str]) -> dict[str, list]:
    """The shapes reachable from ``roots``, in a compact form: ["structure", {member: shape}],
    ["list", shape], ["map", value shape], or [scalar type]."""
    shapes = model["shapes"]
    found: dict[str, list] = {}
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in found:
            continue
        shape = shapes[name]
        kind = shape["type"]
        if kind == "structure":
            members = {member: ref["shape"] for member, ref in shape["members"].items()}
            documents = [member for member in members
                         if member.endswith(_DOCUMENT_MEMBER_SUFFIX)]
            found[name] = ["structure", members, documents]
            stack += members.values()
        elif kind == "list":
            found[name] = ["list", shape["member"]["shape"]]
            stack.append(shape["member"]["shape"])
        elif kind == "map":
            found[name] = ["map", shape["value"]["shape"]]
            stack.append(shape["value"]["shape"])
        else:
            found[name] = ["document" if name in _DOCUMENT_SHAPES else kind]
    return found


@cache
def _service_model(service: str) -> dict:
    from botocore.loaders import create_loader

    return create_loader(os.environ.get("AWS_DATA_PATH")).load_service_model(service,
                                                                             "service-2")


def _operation_entry(service: str, operation: str) -> dict:
    """From botocore: the output shape of ``operation``, its input members, the shapes."""
    model = _service_model(service)
    spec = model["operations"][operation]
    output = spec["output"]["shape"]
    input_shape = spec.get("input", {}).get("shape")
    inputs = ({member: ref["shape"] for member, ref in
               model["shapes"][input_shape]["members"].items()} if input_shape else {})
    return {"output": output, "input": inputs,
            "shapes": _extract(model, [output, *inputs.values()])}


def _cache_file() -> Path | None:
    """Where the extracted shapes of the installed botocore are kept; None for nowhere."""
    directory = os.environ.get("SSM_AUDITOR_CACHE_DIR")
    if directory is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
                                                                 ".cache")
        directory = os.path.join(base, "ssm-auditor")
    if not directory:
        return None
    from importlib.util import find_spec

    try:
        spec = find_spec("botocore")
        stamp = os.stat(spec.origin) if spec and spec.origin else None
    except (ImportError, OSError, ValueError):
        return None
    if stamp is None:
        return None
    key = "|".join((str(CACHE_FORMAT), spec.origin or "", str(stamp.st_mtime_ns),
                    str(stamp.st_size), os.environ.get("AWS_DATA_PATH", "")))
    return Path(directory) / f"output-shapes-{hashlib.sha256(key.encode()).hexdigest()[:20]}.json"


class _ShapeStore:
    """The extracted shapes per "service:operation", read from the cache file when present and
    from botocore otherwise (then written back for the next run)."""

    def __init__(self) -> None:
        self._path = _cache_file()
        self._entries: dict[str, dict] | None = None

    def entry(self, service: str, operation: str) -> dict:
        key = f"{service}:{operation}"
        entries = self._load()
        if key not in entries:
            # Every declared call at once: each service's model is read once, the file
            # written once.
            from auditor.sources.api_calls import ALL_CALLS

            for name, action in {(call.service, call.operation) for call in ALL_CALLS} | {
                    (service, operation)}:
                if f"{name}:{action}" not in entries:
                    entries[f"{name}:{action}"] = _operation_entry(name, action)
            self._save()
        return entries[key]

    def _load(self) -> dict[str, dict]:
        if self._entries is None:
            self._entries = {}
            if self._path is not None:
                try:
                    loaded = json.loads(self._path.read_text(encoding="utf-8"))
                    if isinstance(loaded, dict):
                        self._entries = loaded
                except (OSError, ValueError, RecursionError):
                    pass  # absent or damaged: read botocore's models again
        return self._entries

    def forget(self, service: str, operation: str) -> None:
        """Drop an entry the cache held damaged: the next ``entry`` reads botocore again."""
        self._load().pop(f"{service}:{operation}", None)

    def _save(self) -> None:
        if self._path is None:
            return
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=self._path.parent,
                                             delete=False, suffix=".tmp") as handle:
                json.dump(self._entries, handle)
            os.replace(handle.name, self._path)
        except OSError:
            pass  # a read-only home: no cache, only slower


@lru_cache(maxsize=1)
def _store() -> _ShapeStore:
    return _ShapeStore()


# --- Checkers compiled from the shapes ------------------------------------------------------------

Checker = Callable[[Any], None]


class _Compiler:
    """Checkers for the shapes of one operation, each built once.

    Only a recursive shape can nest as deep as the data goes: its checkers count the depth.
    Elsewhere the model bounds it. A failing value raises ``_Mismatch``, whose path each level
    completes on the way out (the loops hold the failing key in their variable).
    """

    def __init__(self, shapes: dict[str, list]) -> None:
        self.shapes = shapes
        self.built: dict[str, Checker] = {}
        self.recursive = _recursive_shapes(shapes)
        self.depth = 0

    def checker(self, name: str) -> Checker:
        if name not in self.built:
            self.built[name] = lambda value: self.built[name](value)  # while building itself
            built = self._build(name)
            self.built[name] = self._counted(built) if name in self.recursive else built
        return self.built[name]

    def scalar_types(self, name: str) -> tuple[frozenset[type], str] | None:
        return _SCALARS.get(self.shapes[name][0])

    def _build(self, name: str) -> Checker:
        shape = self.shapes[name]
        kind = shape[0]
        if kind == "structure":
            return self.structure(name, shape[1], shape[2])
        if kind == "list":
            return self._list(name, shape[1])
        if kind == "map":
            return self._map(name, shape[1])
        accepted, words = _SCALARS.get(kind, (frozenset({str, int, float, bool}), kind))

        def scalar(value: Any) -> None:
            if value.__class__ not in accepted:
                raise _Mismatch(words, describe(value))
        return scalar

    def _counted(self, checker: Checker) -> Checker:
        def counted(value: Any) -> None:
            self.depth += 1
            try:
                if self.depth > limits.NESTING_DEPTH.value:
                    raise _Mismatch(_NESTING, "deeper nesting")
                checker(value)
            finally:
                self.depth -= 1
        return counted

    def structure(self, name: str, members: dict[str, str], documents: list[str],
                  extra: dict[str, str] | None = None, null_allowed: str = "") -> Checker:
        """``extra``: more members (a per-resource answer's request parameter);
        ``null_allowed``: a member whose null means "there is none" (a single result)."""
        scalars: dict[str, tuple[frozenset[type], str]] = {}
        nested: dict[str, Checker] = {}
        words = {member: f"{'a list' if self.shapes[shape][0] == 'list' else 'a mapping'} "
                         f"({shape})" for member, shape in members.items()}
        for member, shape in {**(extra or {}), **members}.items():
            types = self.scalar_types(shape)
            if member in documents:  # text, or the document as a JSON object
                types = _SCALARS["document"]
            if types is not None:
                scalars[member] = types
            else:
                nested[member] = self.checker(shape)
        near = {_folded(member): member for member in (*scalars, *nested)}
        nullable = {member for shape, member in NULL_MEANS_UNKNOWN if shape == name}
        nullable.add(null_allowed)
        expected = f"a mapping ({name})"

        def structure(value: Any) -> None:
            if value.__class__ is not dict:
                raise _Mismatch(expected, describe(value))
            key = None
            try:
                for key, item in value.items():
                    if item is None:
                        if key in nullable or (key not in scalars and key not in nested):
                            continue  # read as unknown; or a key the model does not know
                        raise _Mismatch(scalars[key][1] if key in scalars else words[key],
                                        "null")
                    types = scalars.get(key)
                    if types is not None:
                        if item.__class__ not in types[0]:
                            raise _Mismatch(types[1], describe(item))
                        if item.__class__ is dict:
                            _depth(item)
                        continue
                    check = nested.get(key)
                    if check is not None:
                        check(item)
                    else:
                        _unknown_member(key, item, near)
            except _Mismatch as mismatch:
                mismatch.path.append(key)
                raise
        return structure

    def _list(self, name: str, member: str) -> Checker:
        types = self.scalar_types(member)
        check = None if types is not None else self.checker(member)
        expected = f"a list ({name})"

        def checked_list(value: Any) -> None:
            if value.__class__ is not list:
                raise _Mismatch(expected, describe(value))
            if types is not None:
                if not {item.__class__ for item in value} <= types[0]:
                    index = next(i for i, item in enumerate(value)
                                 if item.__class__ not in types[0])
                    raise _Mismatch(types[1], describe(value[index]), index)
                return
            item = None
            try:
                for item in value:
                    check(item)
            except _Mismatch as mismatch:
                mismatch.path.append(next(i for i, x in enumerate(value) if x is item))
                raise
        return checked_list

    def _map(self, name: str, member: str) -> Checker:
        types = self.scalar_types(member)
        check = self.checker(member) if types is None else None
        expected = f"a mapping ({name})"

        def checked_map(value: Any) -> None:
            if value.__class__ is not dict:
                raise _Mismatch(expected, describe(value))
            failing = None
            try:
                for failing, item in value.items():  # noqa: B007 (the key, for the path)
                    if types is not None:
                        if item.__class__ not in types[0]:
                            raise _Mismatch(types[1], describe(item))
                    else:
                        check(item)
            except _Mismatch as mismatch:
                mismatch.path.append(failing)
                raise
        return checked_map


def _recursive_shapes(shapes: dict[str, list]) -> set[str]:
    """The shapes that can contain themselves (on a cycle of the shape graph)."""
    def children(name: str) -> list[str]:
        shape = shapes[name]
        if shape[0] == "structure":
            return list(shape[1].values())
        return [shape[1]] if shape[0] in ("list", "map") else []

    recursive: set[str] = set()
    for start in shapes:
        seen: set[str] = set()
        stack = children(start)
        while stack:
            name = stack.pop()
            if name == start:
                recursive.add(start)
                break
            if name not in seen:
                seen.add(name)
                stack += children(name)
    return recursive


def _folded(key: str) -> str:
    return "".join(key.split()).casefold()


def _unknown_member(key: Any, item: Any, near: dict[str, str]) -> None:
    """A key the model does not know: refused when it misspells a member, else walked for
    depth only (a field newer than the installed botocore)."""
    if isinstance(key, str):
        member = near.get(_folded(key))
        if member is not None:
            raise _Mismatch(f"the key {member!r}", f"{key[:80]!r}")
    if item.__class__ in (dict, list):
        _depth(item)


_NESTING = f"nesting within {beyond(limits.NESTING_DEPTH)}"


def _depth(item: Any) -> None:
    try:
        check_tree(item, "", limits.NESTING_DEPTH.value)
    except UsageError:
        raise _Mismatch(_NESTING, "deeper nesting") from None


@cache
def _answer_checker(service: str, operation: str, per_resource: bool,
                    result_key: str) -> Checker:
    try:
        return _compiled(_store().entry(service, operation), per_resource, result_key)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):  # a damaged cache
        _store().forget(service, operation)
        return _compiled(_store().entry(service, operation), per_resource, result_key)


def _compiled(entry: dict, per_resource: bool, result_key: str) -> Checker:
    compiler = _Compiler(entry["shapes"])
    output = entry["output"]
    _, members, documents = compiler.shapes[output]
    # Each per-resource answer may also carry the request's identifying parameter.
    inputs = {member: shape for member, shape in entry["input"].items()
              if compiler.shapes[shape][0] in _SCALARS} if per_resource else {}
    single = result_key in members and compiler.shapes[members[result_key]][0] not in (
        "list", "map")
    return compiler.structure(output, members, documents, inputs,
                              result_key if single else "")


# --- The entry point ----------------------------------------------------------------------------


def _result_member(service: str, operation: str, key: str) -> str:
    """The shape type of the output member ``key`` ("list", "structure"...)."""
    entry = _store().entry(service, operation)
    return entry["shapes"][entry["shapes"][entry["output"]][1][key]][0]


def check_answer(call: ApiCall, answer: Any, what: str) -> None:
    """Raise a one-line ``UsageError`` unless ``answer`` has the output shape of ``call``'s
    operation (see the module's documentation); ``what`` names the file or the answer."""
    try:
        if call.per_resource:
            if answer.__class__ is not list:
                raise _Mismatch(f"a list of {call.operation} answers", describe(answer))
            checker = _answer_checker(call.service, call.operation, True, call.result_key)
            for index, item in enumerate(answer):
                try:
                    checker(item)
                    if not _failed_request(call, item):
                        _check_result(call, item)
                except _Mismatch as mismatch:
                    mismatch.path.append(index)
                    raise
            return
        _answer_checker(call.service, call.operation, False, call.result_key)(answer)
        _check_result(call, answer)
    except _Mismatch as mismatch:
        where = path_text(tuple(reversed(mismatch.path)))
        raise UsageError(f"{what}: {where}: expected {mismatch.expected}, found "
                         f"{mismatch.found}") from None


def _failed_request(call: ApiCall, item: dict) -> bool:
    """A per-resource request the live reader could not complete, kept with its reason
    (``{"VPCId": ..., "Error": "Throttling: ..."}``) so that that resource alone is unknown."""
    return isinstance(item.get("Error"), str) and call.result_key not in item


def _check_result(call: ApiCall, answer: dict) -> None:
    """The result key the CLI always prints: a list (empty when there is nothing), or for a
    single resource a mapping (``null`` when AWS said there is none)."""
    if not call.result_key:
        return
    if call.result_key not in answer:
        raise _Mismatch(f"the key {call.result_key!r} (every {call.operation} answer has it)",
                        _keys(answer))
    if answer[call.result_key] is None and _result_member(
            call.service, call.operation, call.result_key) == "list":
        raise _Mismatch(f"a list ({call.result_key})", "null", call.result_key)


def _keys(answer: dict) -> str:
    if not answer:
        return "an empty mapping"
    names = ", ".join(repr(key)[:40] for key in list(answer)[:3])
    return f"only {names}{'...' if len(answer) > 3 else ''}"
