"""The labelled corpus of real, public excerpts: well formed, covering, and classified right."""

from __future__ import annotations

import pytest

from auditor.catalogue import LOG_LABELS
from scripts.evaluate_log_corpus import DEFAULT_CORPUS, classify, evaluate, load_manifest, scores

MANIFEST = load_manifest()


def test_the_manifest_is_complete_and_sourced():
    files = {path.name for path in DEFAULT_CORPUS.glob("*.log")}
    assert files == {entry["file"] for entry in MANIFEST}
    for entry in MANIFEST:
        assert entry["source"].startswith(
            ("https://", "shared/seed/", "public GitHub file, search-index id ")), entry
        assert set(entry["expected_labels"]) <= set(LOG_LABELS), entry
        assert entry["expected_primary"] in entry["expected_labels"], entry
        assert entry["platform"] in ("linux", "windows", "any")


def test_the_corpus_holds_150_excerpts_and_says_which_are_built_from_format_strings():
    assert len(MANIFEST) >= 150
    assert sum(entry["platform"] == "windows" for entry in MANIFEST) >= 30
    for entry in MANIFEST:
        assert entry.get("kind", "real") in ("real", "format_string"), entry
        if entry.get("kind") == "format_string":
            assert entry["source"].startswith("https://github.com/aws/amazon-ssm-agent/blob/")
            assert entry["note"].startswith("built from the"), entry


def test_the_corpus_covers_every_label_both_platforms_old_and_new_agents():
    labels = {label for entry in MANIFEST for label in entry["expected_labels"]}
    assert labels == set(LOG_LABELS)
    assert {entry["platform"] for entry in MANIFEST} >= {"linux", "windows"}
    eras = {entry["agent_era"] for entry in MANIFEST}
    assert "2.x" in eras and "3.3" in eras
    assert any(entry.get("holdout") for entry in MANIFEST)


@pytest.mark.parametrize("entry", MANIFEST, ids=lambda entry: entry["file"])
def test_each_excerpt_gets_its_labels_and_primary(entry):
    labels, primary = classify(DEFAULT_CORPUS / entry["file"])
    assert labels == set(entry["expected_labels"])
    assert primary == entry["expected_primary"]


def test_scores_count_false_positives_and_misses():
    outcomes = evaluate()
    outcomes[0].predicted = {"throttling"}
    table = scores(outcomes[:1])
    expected = next(iter(outcomes[0].expected))
    assert table["throttling"].false_positive == 1
    assert table[expected].false_negative == 1
    assert table[expected].recall == 0.0


def test_the_evaluation_script_runs_as_documented(tmp_path):
    """`python scripts/evaluate_log_corpus.py`, from any directory, prints the tables."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "scripts" / "evaluate_log_corpus.py"
    done = subprocess.run([sys.executable, str(script), "--batch", "7"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "| label | excerpts | precision | recall |" in done.stdout
    batch = done.stdout.split("held-out batch 7: ", 1)[1]
    assert batch.startswith(f"{sum(entry.get('batch') == 7 for entry in MANIFEST)} excerpts")


def test_batched_excerpts_are_held_out():
    for entry in MANIFEST:
        if "batch" in entry:
            assert isinstance(entry["batch"], int) and entry.get("holdout") is True, entry
