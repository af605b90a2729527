"""boto3 sessions with botocore event handlers registered first, for tests and benchmarks
that answer, delay or watch API calls without touching the auditor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def sessions_with(handlers: dict[str, Callable]) -> Callable[..., Any]:
    """A stand-in for ``boto3.Session`` whose sessions (and their clients) have ``handlers``
    (event name -> handler) registered first; install it with ``monkeypatch.setattr(boto3,
    "Session", ...)`` or restore ``boto3.Session`` afterwards."""
    import boto3

    real_session = boto3.Session

    def session(*args: Any, **kwargs: Any) -> Any:
        made = real_session(*args, **kwargs)
        for event, handler in handlers.items():
            made.events.register_first(event, handler)
        return made

    return session
