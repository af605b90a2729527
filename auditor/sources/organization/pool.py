"""A bounded pool: ``work`` on at most N threads, results handed back one at a time.

At most ``concurrency`` items are in flight and finished results are handed to ``done`` in the
caller's thread as they come, so memory holds at most ``concurrency`` results at once (the
report is written as units finish, never gathered). With a concurrency of 1 nothing runs on
another thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def run_pool(items: Iterable[Item], work: Callable[[Item], Result],
             done: Callable[[Item, Result], None], concurrency: int) -> None:
    """``done(item, work(item))`` for every item, in the order they finish. An exception of
    ``work`` or ``done`` stops the pool (pending items are not started) and is raised."""
    queue = iter(items)
    if concurrency <= 1:
        for item in queue:
            done(item, work(item))
        return
    executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="unit")
    running: dict[Future, Item] = {}
    try:
        for item in queue:
            running[executor.submit(work, item)] = item
            if len(running) >= concurrency:
                _hand_back(running, done)
        while running:
            _hand_back(running, done)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _hand_back(running: dict[Future, Item], done: Callable[[Item, Result], None]) -> None:
    finished, _ = wait(running, return_when=FIRST_COMPLETED)
    for future in finished:
        item = running.pop(future)
        done(item, future.result())
