"""The verification workers: started with the app, models loaded before the first upload."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from backend_stub.verify import Verifier
from tests.backend.conftest import AppFactory
from verification.speech import BUNDLED_MODEL_DIR

# The workers never touch the database: one kind of it is enough.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def loaded_models() -> dict[str, Any]:
    """Run in a worker: what that process has loaded so far."""
    from verification import face, liveness
    from verification.idcard import ocr

    return {
        "face_recognition": "face_recognition" in sys.modules,
        "face_networks": face._network.cache_info().currsize,
        "ocr_engines": ocr.engine.cache_info().currsize,
        "recognisers": {key: value[0] is not None for key, value in liveness._RECOGNISERS.items()},
    }


@sqlite_only
def test_the_worker_loads_the_models_when_the_app_starts(make_client: AppFactory) -> None:
    client = make_client(VERIFY_WORKERS=1, ASR_MODEL_DIR=str(BUNDLED_MODEL_DIR))
    with client:  # runs the app's startup
        # One worker takes its tasks in order: the warm-up, then this question.
        loaded = asyncio.run(client.app.state.verifier.run(loaded_models))  # type: ignore[attr-defined]
    assert loaded == {
        "face_recognition": True,
        "face_networks": 1,
        "ocr_engines": 1,
        "recognisers": {str(BUNDLED_MODEL_DIR): True},
    }


@sqlite_only
def test_without_workers_nothing_is_loaded_at_startup(make_client: AppFactory) -> None:
    client = make_client(VERIFY_WORKERS=0)
    with client:
        assert client.app.state.verifier._pool is None  # type: ignore[attr-defined]


def blas_threads() -> list[int]:
    """Run in a worker: the threads of each BLAS library loaded there."""
    import numpy  # noqa: F401
    from threadpoolctl import threadpool_info

    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def threads_started_by_vad() -> int:
    """Run in a worker: threads that the voice-activity detector's first use starts."""
    import numpy as np

    from verification import speech

    before = len(os.listdir("/proc/self/task"))
    noise = np.random.default_rng(7).normal(0, 0.1, speech.SAMPLE_RATE).astype(np.float32)
    assert speech.speech_probabilities(noise).size > 0
    return len(os.listdir("/proc/self/task")) - before


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: one thread anyway")
def test_a_worker_computes_on_one_thread() -> None:
    # OpenBLAS's helper threads spin after each product, and OpenMP's pool after each VAD
    # chunk: CPU spent for nothing.
    verifier = Verifier(1)
    try:
        threads = asyncio.run(verifier.run(blas_threads))
        started = asyncio.run(verifier.run(threads_started_by_vad))
    finally:
        verifier.close()
    assert threads and set(threads) == {1}
    assert started == 0


def running(pid: int) -> bool:
    """A live process (a zombie waiting for its parent counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@sqlite_only
def test_the_workers_stop_with_the_app(make_client: AppFactory) -> None:
    client = make_client(VERIFY_WORKERS=1)
    with client:
        worker = asyncio.run(client.app.state.verifier.run(os.getpid))  # type: ignore[attr-defined]
        assert running(worker)
    assert gone_within(worker, 10)


def test_a_worker_exits_when_its_api_process_is_killed(tmp_path: Path) -> None:
    # The API process dies without a word (as under SIGKILL); its worker must not stay
    # behind holding the models.
    program = (
        "import asyncio, os\n"
        "from backend_stub.verify import Verifier\n"
        "v = Verifier(1)\n"
        "print(asyncio.run(v.run(os.getpid)), flush=True)\n"
        "os._exit(0)\n"
    )
    out = tmp_path / "out"
    with out.open("w") as stdout:  # a file: a worker left behind would keep a pipe open
        subprocess.run([sys.executable, "-c", program], stdout=stdout, timeout=60, check=True)
    worker = int(out.read_text().split()[-1])
    try:
        assert gone_within(worker, 10), "the worker outlived its API process"
    finally:
        if running(worker):
            os.kill(worker, signal.SIGKILL)
