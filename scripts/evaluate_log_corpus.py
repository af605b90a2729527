"""Precision and recall of the log classifier, per label, on the labelled corpus.

    python scripts/evaluate_log_corpus.py [--corpus tests/corpus/logs] [--batch N]

The corpus (tests/corpus/logs/manifest.json) holds real, public excerpts with their source.
Excerpts marked "holdout" were kept out of the tuning of the patterns: their scores are
reported apart, as a check that the patterns match mechanisms rather than the examples;
``--batch N`` also reports the held-out batch N alone (its first-sight score, before any fix).
A label counts per excerpt: predicted when the classifier reports it, expected when the
manifest lists it; "healthy" is predicted when no failure is reported.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from auditor.catalogue import LOG_LABELS  # noqa: E402
from auditor.logs.analysis import analyse  # noqa: E402

DEFAULT_CORPUS = ROOT / "tests" / "corpus" / "logs"


@dataclass
class Outcome:
    file: str
    expected: set[str]
    predicted: set[str]
    expected_primary: str
    primary: str
    holdout: bool
    batch: int | None = None
    kind: str = "real"

    @property
    def correct(self) -> bool:
        return self.expected == self.predicted and self.expected_primary == self.primary


@dataclass
class Score:
    true_positive: int = 0
    false_positive: int = 0
    false_negative: int = 0
    files: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else None

    @property
    def recall(self) -> float | None:
        wanted = self.true_positive + self.false_negative
        return self.true_positive / wanted if wanted else None


def load_manifest(corpus: Path = DEFAULT_CORPUS) -> list[dict]:
    return json.loads((corpus / "manifest.json").read_text())["excerpts"]


def classify(path: Path) -> tuple[set[str], str]:
    analysis = analyse([str(path)])
    labels = {tally.label for tally in analysis.symptoms} or {"healthy"}
    return labels, analysis.primary


def evaluate(corpus: Path = DEFAULT_CORPUS) -> list[Outcome]:
    outcomes = []
    for entry in load_manifest(corpus):
        predicted, primary = classify(corpus / entry["file"])
        outcomes.append(Outcome(entry["file"], set(entry["expected_labels"]), predicted,
                                entry["expected_primary"], primary,
                                bool(entry.get("holdout")), entry.get("batch"),
                                entry.get("kind", "real")))
    return outcomes


def scores(outcomes: list[Outcome]) -> dict[str, Score]:
    table = {label: Score() for label in LOG_LABELS}
    for outcome in outcomes:
        for label in LOG_LABELS:
            hit, wanted = label in outcome.predicted, label in outcome.expected
            score = table[label]
            if hit and wanted:
                score.true_positive += 1
            elif hit:
                score.false_positive += 1
                score.files.append(f"+{outcome.file}")
            elif wanted:
                score.false_negative += 1
                score.files.append(f"-{outcome.file}")
    return table


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def render(outcomes: list[Outcome], title: str) -> list[str]:
    table = scores(outcomes)
    primaries = sum(o.primary == o.expected_primary for o in outcomes)
    lines = [f"{title}: {len(outcomes)} excerpts, primary right for {primaries}, labels and "
             f"primary right for {sum(o.correct for o in outcomes)}", "",
             "| label | excerpts | precision | recall | misses (+ false, - missed) |",
             "|---|---|---|---|---|"]
    for label, score in table.items():
        count = score.true_positive + score.false_negative
        lines.append(f"| {label} | {count} | {_ratio(score.precision)} | "
                     f"{_ratio(score.recall)} | {' '.join(score.files)} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--batch", type=int, help="also report this held-out batch alone")
    args = parser.parse_args()
    outcomes = evaluate(args.corpus)
    tuned = [o for o in outcomes if not o.holdout]
    held = [o for o in outcomes if o.holdout]
    print("\n".join(render(outcomes, "all")))
    print()
    print("\n".join(render(tuned, "tuning set")))
    print()
    print("\n".join(render(held, "held-out set")))
    if args.batch is not None:
        batch = [o for o in outcomes if o.batch == args.batch]
        print()
        print("\n".join(render(batch, f"held-out batch {args.batch}")))
        for kind in sorted({o.kind for o in batch}):
            some = [o for o in batch if o.kind == kind]
            print(f"  {kind}: {len(some)} excerpts, primary right for "
                  f"{sum(o.primary == o.expected_primary for o in some)}, labels and primary "
                  f"right for {sum(o.correct for o in some)}")
    wrong = [o for o in outcomes if not o.correct]
    for outcome in wrong:
        print(f"\nwrong: {outcome.file}: expected {sorted(outcome.expected)} primary "
              f"{outcome.expected_primary}, got {sorted(outcome.predicted)} primary "
              f"{outcome.primary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
