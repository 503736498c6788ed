"""Zikao's identity-verification engine.

Plain Python shared by the backend, the command line and the benchmarks. It imports
neither flet nor fastapi; heavy libraries are imported inside the functions that need them.
"""

from __future__ import annotations

import logging

__all__ = ["errors", "warm_up"]


def warm_up(asr_model_dir: str | None) -> None:
    """Load what the first candidate's checks would otherwise wait for (~5 s on a cold
    worker: the libraries, the OCR engine, dlib's face models, the speech model). Best
    effort: a failure here is logged and the check itself reports it when it runs."""
    try:
        import av  # noqa: F401
        import cv2  # noqa: F401

        from verification import liveness
        from verification.idcard import ocr

        liveness._face_lib()  # dlib's detector, landmark and descriptor models
        ocr.engine()
        liveness._cached_recogniser(asr_model_dir)
    except Exception:  # noqa: BLE001  (the same failure reaches the candidate's own check)
        logging.getLogger(__name__).exception("warm-up of the verification engine failed")
