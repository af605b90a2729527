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
    GENERIC_FAILURE,
    GENERIC_TRIGGERS,
    HEALTHY,
    SPECIFICITY,
    SYMPTOMS,
    UNRECOGNIZED,
    codes_explaining,
)

MAX_EVIDENCE = 5
# Fields worth reporting once for the whole input, not only per symptom.
_FACTS = ("agent_versions", "instance_ids", "backoff")
_VERSION_HINTS = ("gent v", "agent - v", "agent version")
_LEADING_TIME = re.compile(r"^\S+ \S+ ")


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

    def add(self, record: Record, found: dict[str, list[str]]) -> None:
        self.count += 1
        if record.timestamp:
            self.first_seen = self.first_seen or record.timestamp
            self.last_seen = record.timestamp
        message = _LEADING_TIME.sub("", record.text, count=1)
        if len(self.evidence) < MAX_EVIDENCE and message not in self._seen_messages:
            self._seen_messages.add(message)
            self.evidence.append("\n".join(record.raw_lines))
        fields_mod.merge(self.fields, found)
        symptom = BY_LABEL.get(self.label)
        for clue in symptom.clues if symptom else ():
            if clue.name not in self.clues and clue.regex.search(record.text):
                self.clues.append(clue.name)

    @property
    def explained_by(self) -> tuple[str, ...]:
        """Finding codes that can explain this symptom, narrowed by the clues the log gave."""
        codes = codes_explaining(self.label)
        symptom = BY_LABEL.get(self.label)
        narrowed = [c for clue in symptom.clues if clue.name in self.clues
                    for c in clue.codes] if symptom else []
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


@dataclass
class Classifier:
    symptoms: dict[str, SymptomTally] = field(default_factory=dict)
    facts: dict[str, list[str]] = field(default_factory=dict)
    records: int = 0
    consequences: SymptomTally = field(default_factory=lambda: SymptomTally(UNRECOGNIZED))
    _last: list[SymptomTally] = field(default_factory=list)  # the failure seen last

    def feed(self, record: Record, forced: str | None = None) -> None:
        self.records += 1
        text = record.text
        lowered = text.lower()
        if _holds(lowered, _VERSION_HINTS):
            fields_mod.merge(self.facts, fields_mod.extract(text))
        if not forced and _holds(record.lines[0].lower(), BENIGN):
            return
        labels = labels_of(text, lowered) or ([forced] if forced else [])
        if not labels:
            if _holds(lowered, CONSEQUENCE):
                found = self._facts_of(text)
                self.consequences.add(record, found)
                for tally in self._last:  # "Sleeping for 4s" belongs to the failure before it
                    fields_mod.merge(tally.fields, {k: v for k, v in found.items()
                                                    if k == "backoff"})
                return
            if _holds(lowered, GENERIC_TRIGGERS) and GENERIC_FAILURE.search(text):
                labels = [UNRECOGNIZED]
        found = self._facts_of(text) if labels else {}
        self._last = []
        for label in labels:
            tally = self.symptoms.setdefault(label, SymptomTally(label))
            tally.add(record, found)
            self._last.append(tally)

    def _facts_of(self, text: str) -> dict[str, list[str]]:
        found = fields_mod.extract(text)
        fields_mod.merge(self.facts, {name: values for name, values in found.items()
                                      if name in _FACTS})
        return found

    def _all(self) -> dict[str, SymptomTally]:
        """`unrecognized` only when nothing the catalogue names explains the input: beside a
        named failure, an unknown error line is most often its consequence."""
        named = {label: tally for label, tally in self.symptoms.items()
                 if label != UNRECOGNIZED}
        if named:
            return named
        if UNRECOGNIZED in self.symptoms:
            return {UNRECOGNIZED: self.symptoms[UNRECOGNIZED]}
        return {UNRECOGNIZED: self.consequences} if self.consequences.count else {}

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
