"""Runs the verification engine off the event loop: a process pool, or a thread for tests."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
PARENT_CHECK_S = 2.0


def _worker_started(parent: int) -> None:
    """In each worker. Ctrl-C in a terminal reaches every process of the group: the API
    process stops its workers in order, so a worker ignores it. A worker whose API process
    is gone (killed, or exited without telling it) exits instead of waiting forever on its
    task queue with the models loaded. A worker computes on one thread: checks run side by
    side in more workers (VERIFY_WORKERS)."""
    import verification

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    verification.single_threaded()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class Verifier:
    """One per app. Workers start with the app (`warm`) or on first use, and each keeps
    the engine's models loaded."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: Executor | None = None

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self.workers <= 0:
            return await asyncio.to_thread(fn, *args)
        return await asyncio.get_running_loop().run_in_executor(self._started(), fn, *args)

    def warm(self, fn: Callable[..., object], *args: Any) -> None:
        """Start the workers now, each running `fn` once (loading the models), without
        waiting: the first candidates after a restart then wait for their own check only."""
        if self.workers <= 0:
            return
        pool = self._started()
        for _ in range(self.workers):  # one task per worker: each new worker takes one
            pool.submit(fn, *args)

    def _started(self) -> Executor:
        if self._pool is None:
            # spawn: the API process has threads; a forked copy of them is not safe.
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_started,
                initargs=(os.getpid(),),
            )
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
