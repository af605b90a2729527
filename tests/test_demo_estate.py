"""The committed demo estate is exactly what its generator writes."""

from __future__ import annotations

from pathlib import Path

from builders.demo_estate import CAPTURED_AT, DEFAULT_OUT, build_regions
from builders.estate_builder import write_regions


def test_demo_estate_matches_its_generator(tmp_path):
    write_regions(tmp_path, build_regions(), CAPTURED_AT)
    generated = {p.relative_to(tmp_path): p.read_text() for p in tmp_path.rglob("*.json")}
    demo = Path(DEFAULT_OUT)
    committed = {p.relative_to(demo): p.read_text() for p in demo.rglob("*.json")}
    assert sorted(generated) == sorted(committed)
    for name, text in generated.items():
        assert committed[name] == text, f"{name} differs: run python scripts/make_demo_estate.py"
