"""What the HTML report's script draws from: each shared proof once, instances by reference.

Instances alike share their proofs, and proofs share hops: the page carries every distinct hop
once, every distinct path once (as hop numbers), every distinct service proof and credential
chain once, and per instance only the numbers of its proofs. A 10,000-instance fleet holds
about 5,000 distinct hops and 9,000 distinct paths: a few megabytes, where each instance's own
copy would take tens. Entries are the JSON report's own dictionaries, so a field the JSON
report gains reaches the diagrams too.
"""

from __future__ import annotations

from typing import Any

_CREDENTIAL_FIELDS = ("imds", "credentials", "permissions")


_HOP_FIELDS = ("step", "resource_id", "decision", "rule")


def _hop_key(hop: dict[str, Any]) -> Any:
    if len(hop) == len(_HOP_FIELDS):  # the contract's four fields: the common, fast case
        try:
            key = (hop["step"], hop["resource_id"], hop["decision"], hop["rule"])
            hash(key)
            return key
        except (KeyError, TypeError):
            pass
    return repr(hop)  # a hop with more (or other) fields: its text


class ScriptData:
    """The tables the script draws from, filled instance by instance."""

    def __init__(self) -> None:
        self.hops: list[dict[str, Any]] = []
        self.paths: list[list[int]] = []
        self.proofs: list[dict[str, Any]] = []
        self.credentials: list[dict[str, Any]] = []
        self.instances: list[list[int]] = []
        # Instance number -> [[label, proof number], ...]: the services its capabilities reach
        self.reached: dict[str, list[list[Any]]] = {}
        self._hops: dict[Any, int] = {}
        self._paths: dict[tuple[int, ...], int] = {}
        self._proofs: dict[str, int] = {}
        self._by_object: dict[tuple[str, int], int] = {}
        self._held: list[dict[str, Any]] = []  # keeps the ids of ``_by_object`` unique
        self._credentials: dict[str, int] = {}

    def proof(self, name: str, service: dict[str, Any]) -> int:
        """The number of this service proof (the JSON report's dictionary; instances that
        share a proof may share the dictionary, which is then read once)."""
        known = self._by_object.get((name, id(service)))
        if known is not None:
            return known
        path = []
        for hop in service.get("path") or []:
            key = _hop_key(hop)
            number = self._hops.get(key)
            if number is None:
                number = self._hops[key] = len(self.hops)
                self.hops.append(hop)
            path.append(number)
        found = tuple(path)
        if found not in self._paths:
            self._paths[found] = len(self.paths)
            self.paths.append(path)
        entry = {"service": name, **{key: value for key, value in service.items()
                                     if key != "path"}, "path": self._paths[found]}
        key = repr(entry)  # the dictionaries are built alike: their text is their identity
        if key not in self._proofs:
            self._proofs[key] = len(self.proofs)
            self.proofs.append(entry)
        number = self._by_object[(name, id(service))] = self._proofs[key]
        self._held.append(service)
        return number

    def credential(self, fields: dict[str, Any]) -> int:
        """The number of this instance's metadata service, credentials and permissions."""
        entry = {name: fields.get(name) for name in _CREDENTIAL_FIELDS}
        key = repr(entry)
        number = self._credentials.get(key)
        if number is None:
            number = self._credentials[key] = len(self.credentials)
            self.credentials.append(entry)
        return number

    def add_instance(self, credential: int, proofs: list[int],
                     reached: dict[tuple[str, str], int] | None = None) -> int:
        """The instance's number: the ``data-k`` of its section. ``reached``: the proofs of
        the services its capabilities reach, by (capability, service)."""
        self.instances.append([credential, *proofs])
        number = len(self.instances) - 1
        if reached:
            self.reached[str(number)] = [[f"{capability.replace('_', ' ')}: {service}", proof]
                                         for (capability, service), proof in reached.items()]
        return number

    def as_dict(self) -> dict[str, Any]:
        return {"hops": self.hops, "paths": self.paths, "proofs": self.proofs,
                "credentials": self.credentials, "instances": self.instances,
                "reached": self.reached}
