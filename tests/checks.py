"""Assertions shared by the tests."""

from __future__ import annotations


def assert_one_line_error(code: int, err: str, *words: str) -> None:
    assert code == 2
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    for word in words:
        assert word in err
