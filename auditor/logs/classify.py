"""Tally records into symptoms: counts, first and last seen, capped evidence, fields, primary."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from auditor.logs import fields as fields_mod
from auditor.logs.reader import Record
from auditor.logs.symptoms import (
    BENIGN,
    BY_LABEL,
    CONSEQUENCE,
    EXHAUSTION,
    FAILURE_WORDS,
    GENERIC_FAILURE,
    GENERIC_TRIGGERS,
    HEALTHY,
    LEVEL_AND_LOCATION,
    NODE_DEPENDENT_IMDS,
    OWNED_CONSEQUENCES,
    REACH_AUTH_REGISTER_ALLOCATE,
    SPECIFICITY,
    SYMPTOMS,
    UNRECOGNIZED,
    WARN_LEVEL,
    codes_explaining,
)

MAX_EVIDENCE = 5
# The patterns read this much of each line of a record: a mechanism shows in the first
# kilobytes, and a bound on the text keeps every pattern's time bounded.
CLASSIFY_LINE_CHARS = 8192
# Records of one shape (the same message but its time and request id) are judged once: an
# errors.log repeats a handful of shapes thousands of times. Bounded, then judged each time.
MAX_SHAPES = 4096
_AGENT_TIME = re.compile(r"\d{4}[-/]\d\d[-/]\d\d \d\d:\d\d:\d\d\S*")
_IDS = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
                  r"|[Rr]equest ?[Ii]d:? \S*")


def _shape(text: str) -> str:
    """The text without what changes from one occurrence of a message to the next."""
    if text[:4].isdigit():
        match = _AGENT_TIME.match(text)
        if match:
            text = text[match.end():]
    if "equest" in text or "-4" in text:
        text = _IDS.sub("", text)
    return text
_FAILURE, _CONSEQUENCE, _OTHER = "failure", "consequence", "other"
# A failure whose meaning depends on the node: EC2 or on-premises (NODE_DEPENDENT_IMDS).
_NODE_DEPENDENT = "node dependent"
IMDS_UNREACHABLE = "imds_unreachable"
EC2, HYBRID = "ec2", "hybrid"
# Fields worth reporting once for the whole input, not only per symptom.
_FACTS = ("agent_versions", "instance_ids", "backoff")
_VERSION_HINTS = ("gent v", "agent - v", "agent version")
_LEADING_TIME = re.compile(r"^\S+ \S+ ")
_SORTABLE = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d")


@dataclass
class SymptomTally:
    label: str
    count: int = 0
    first_seen: str | None = None
    last_seen: str | None = None
    evidence: list[str] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)
    clues: list[str] = field(default_factory=list)
    _seen_messages: set[str] = field(default_factory=set, repr=False)
    _merged: set[int] = field(default_factory=set, repr=False)

    def add(self, record: Record, found: dict[str, list[str]],
            clues: tuple[str, ...] = (), shape: str | None = None) -> None:
        self.count += 1
        if record.timestamp:
            self._seen(record.timestamp)
        if len(self.evidence) < MAX_EVIDENCE:
            message = _LEADING_TIME.sub("", record.text, count=1) if shape is None else shape
            if message not in self._seen_messages:
                self._seen_messages.add(message)
                self.evidence.append("\n".join(record.raw_lines))
        if id(found) not in self._merged:  # a cached shape's fields are merged once
            self._merged.add(id(found))
            fields_mod.merge(self.fields, found)
        for clue in clues:
            if clue not in self.clues:
                self.clues.append(clue)

    def _seen(self, timestamp: str) -> None:
        """Agent times (2020-10-12 13:49:56) compare as text, across files too; other times
        (syslog's, without a year) keep the order of the input."""
        if self.first_seen is None or self.last_seen is None:
            self.first_seen = self.first_seen or timestamp
            self.last_seen = timestamp
            return
        if _SORTABLE.match(timestamp) and _SORTABLE.match(self.first_seen) \
                and _SORTABLE.match(self.last_seen):
            self.first_seen = min(self.first_seen, timestamp)
            self.last_seen = max(self.last_seen, timestamp)
        else:
            self.last_seen = timestamp

    def combined(self, other: SymptomTally) -> SymptomTally:
        """A new tally holding this one's records and the other's."""
        merged = SymptomTally(self.label, self.count + other.count)
        for tally in (self, other):
            for timestamp in (tally.first_seen, tally.last_seen):
                if timestamp:
                    merged._seen(timestamp)
            merged.evidence.extend(e for e in tally.evidence
                                   if len(merged.evidence) < MAX_EVIDENCE)
            fields_mod.merge(merged.fields, tally.fields)
            merged.clues.extend(c for c in tally.clues if c not in merged.clues)
        return merged

    @property
    def outside_clues(self) -> tuple[str, ...]:
        """What the clues of this symptom place outside the auditor's model."""
        symptom = BY_LABEL.get(self.label)
        return tuple(clue.outside for clue in symptom.clues
                     if clue.outside and clue.name in self.clues) if symptom else ()

    @property
    def explained_by(self) -> tuple[str, ...]:
        """Finding codes that can explain this symptom, narrowed by the clues the log gave; none
        when every clue given places the cause outside the model."""
        codes = codes_explaining(self.label)
        symptom = BY_LABEL.get(self.label)
        given = [clue for clue in symptom.clues if clue.name in self.clues] if symptom else []
        if given and all(clue.outside for clue in given):
            return ()
        narrowed = [c for clue in given for c in clue.codes]
        return tuple(c for c in codes if c in narrowed) if narrowed else codes

    def as_dict(self) -> dict[str, Any]:
        symptom = BY_LABEL.get(self.label)
        return {"label": self.label, "count": self.count, "first_seen": self.first_seen,
                "last_seen": self.last_seen, "evidence": self.evidence, "fields": self.fields,
                "meaning": symptom.meaning if symptom else _OTHER_MEANING,
                "clues": self.clues, "explained_by": list(self.explained_by)}


_OTHER_MEANING = "a failure the symptom catalogue does not name"


def _holds(lowered: str, words: tuple[str, ...]) -> bool:
    return any(word in lowered for word in words)


def labels_of(text: str, lowered: str | None = None) -> list[str]:
    """The labels one record shows; a channel failure with a more specific cause is that cause."""
    lowered = text.lower() if lowered is None else lowered
    labels = [symptom.label for symptom in SYMPTOMS if symptom.matches(text, lowered)]
    if len(labels) > 1 and "session_manager_channel" in labels:
        labels.remove("session_manager_channel")
    return labels


def _exhausted(match: re.Match[str]) -> str:
    phrase = match.group(1).lower()
    return "too many open files" if phrase.startswith("too many open file") else phrase


def _warn_names_a_failure(text: str) -> bool:
    """The severity rule: a WARN line that names a failure to reach, authenticate, register or
    allocate something."""
    if not WARN_LEVEL.search(text):
        return False
    message = LEVEL_AND_LOCATION.sub("", WARN_LEVEL.sub("", text))
    return bool(FAILURE_WORDS.search(message) and REACH_AUTH_REGISTER_ALLOCATE.search(message))


@dataclass
class Classifier:
    symptoms: dict[str, SymptomTally] = field(default_factory=dict)
    facts: dict[str, list[str]] = field(default_factory=dict)
    records: int = 0
    consequences: SymptomTally = field(default_factory=lambda: SymptomTally(UNRECOGNIZED))
    # back-offs that name their component, by the label they show when alone
    owned_backoffs: dict[str, SymptomTally] = field(default_factory=dict)
    # failures whose meaning depends on the node (NODE_DEPENDENT_IMDS), and what the input
    # shows of the node: "ec2", "hybrid"
    node_dependent: SymptomTally = field(default_factory=lambda: SymptomTally(IMDS_UNREACHABLE))
    node_kinds: set[str] = field(default_factory=set)
    _last: list[SymptomTally] = field(default_factory=list)  # the failure seen last
    _verdicts: dict[tuple, tuple] = field(default_factory=dict)  # by record shape

    def feed(self, record: Record, forced: str | None = None) -> None:
        self.records += 1
        text = "\n".join(line[:CLASSIFY_LINE_CHARS] for line in record.lines)
        shape = _shape(text)
        # keyed by a digest of the shape: the cache must not hold thousands of long texts
        key = (hash(shape), len(shape), forced)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._judge(record, text, forced)
            if len(self._verdicts) < MAX_SHAPES:
                self._verdicts[key] = verdict
        kind, labels, found, clues = verdict
        if kind == _CONSEQUENCE:
            self.consequences.add(record, found, (), shape)
            for label in labels:
                tally = self.owned_backoffs.setdefault(label, SymptomTally(label))
                tally.add(record, found, (), shape)
            for tally in self._last:  # "Sleeping for 4s" belongs to the failure before it
                fields_mod.merge(tally.fields, {k: v for k, v in found.items() if k == "backoff"})
            return
        if kind == _NODE_DEPENDENT:
            self.node_dependent.add(record, found, (), shape)
            return
        if kind != _FAILURE:
            return
        self._last = []
        for label in labels:
            tally = self.symptoms.setdefault(label, SymptomTally(label))
            tally.add(record, found, clues.get(label, ()), shape)
            self._last.append(tally)

    def _judge(self, record: Record, text: str, forced: str | None) -> tuple:
        """What a record of this shape is: (kind, labels, fields, clues by label)."""
        lowered = text.lower()
        if _holds(lowered, _VERSION_HINTS):
            fields_mod.merge(self.facts, fields_mod.extract(text))
        exhausted = EXHAUSTION.search(text)
        if exhausted:  # the OS ran out of something: that, not what the record failed at
            found = self._facts_of(text)
            found["exhausted"] = [_exhausted(exhausted)]
            return _FAILURE, (UNRECOGNIZED,), found, {}
        head = lowered.split("\n", 1)[0]
        if not forced and _holds(head, BENIGN):
            return _OTHER, (), {}, {}
        labels = labels_of(text, lowered) or ([forced] if forced else [])
        if any(all(part in lowered for part in group) for group in NODE_DEPENDENT_IMDS):
            return _NODE_DEPENDENT, (IMDS_UNREACHABLE,), self._facts_of(text), {}
        if not labels:
            if _holds(lowered, CONSEQUENCE):
                owners = tuple(label for label, words in OWNED_CONSEQUENCES.items()
                               if _holds(lowered, words))
                return _CONSEQUENCE, owners, self._facts_of(text), {}
            if (_holds(lowered, GENERIC_TRIGGERS) and GENERIC_FAILURE.search(text) \
                    and FAILURE_WORDS.search(LEVEL_AND_LOCATION.sub("", text))) \
                    or _warn_names_a_failure(text):
                labels = [UNRECOGNIZED]
        if not labels:
            return _OTHER, (), {}, {}
        clues = {label: tuple(clue.name for clue in BY_LABEL[label].clues
                              if clue.regex.search(text))
                 for label in labels if label in BY_LABEL}
        return _FAILURE, tuple(labels), self._facts_of(text), clues

    def _facts_of(self, text: str) -> dict[str, list[str]]:
        found = fields_mod.extract(text)
        fields_mod.merge(self.facts, {name: values for name, values in found.items()
                                      if name in _FACTS})
        return found

    def on_ec2(self) -> bool:
        """The input shows an EC2 instance (its id), and no on-premises node."""
        ids = self.facts.get("instance_ids", [])
        kinds = self.node_kinds | {HYBRID if iid.startswith("mi-") else EC2 for iid in ids}
        return kinds == {EC2}

    def _all(self) -> dict[str, SymptomTally]:
        """`unrecognized` only when nothing the catalogue names explains the input: beside a
        named failure, an unknown error line is most often its consequence."""
        named = {label: tally for label, tally in self.symptoms.items()
                 if label != UNRECOGNIZED}
        if self.node_dependent.count and self.on_ec2():
            imds = named.get(IMDS_UNREACHABLE)
            named[IMDS_UNREACHABLE] = imds.combined(self.node_dependent) if imds \
                else self.node_dependent
        if named:
            return named
        if self.owned_backoffs:
            return dict(self.owned_backoffs)
        if UNRECOGNIZED in self.symptoms:
            return {UNRECOGNIZED: self.symptoms[UNRECOGNIZED]}
        return {UNRECOGNIZED: self.consequences} if self.consequences.count else {}

    def node_dependent_note(self) -> str | None:
        """What the node-dependent failures mean when the input does not show an EC2 instance."""
        tally = self.node_dependent
        if not tally.count or self.on_ec2():
            return None
        return (f"the inventory's billing-info call to the metadata service failed "
                f"{tally.count} time(s): expected on an on-premises node (no metadata service); "
                "on an EC2 instance it means the metadata service is unreachable from the OS")

    def other_failures(self) -> SymptomTally | None:
        """Error lines outside the catalogue seen beside named failures (reported as a note)."""
        tally = self.symptoms.get(UNRECOGNIZED)
        return tally if tally and len(self.symptoms) > 1 else None

    def primary(self) -> str:
        present = self._all()
        return next((label for label in SPECIFICITY if label in present), HEALTHY)

    def ordered(self) -> list[SymptomTally]:
        rank = {label: index for index, label in enumerate(SPECIFICITY)}
        return sorted(self._all().values(), key=lambda tally: rank.get(tally.label, 99))
