"""Text detection and recognition with RapidOCR, using only the models in its wheel.

The engine costs seconds to create, so there is one per process, made on first use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache

import numpy as np

from verification.errors import MissingDependency

# The detector sees the card crop with its longer side at most this many pixels: the
# detector's cost grows with the area, and card text stays ≥ 15 px tall at this size
# (benchmarks/idcard.py measures the trade-off).
DET_MAX_SIDE = 640


@dataclass(frozen=True, slots=True)
class TextLine:
    """One detected line: its text, its quadrilateral (4 × (x, y)) and confidence."""

    text: str
    box: np.ndarray
    score: float

    @property
    def center(self) -> tuple[float, float]:
        return float(self.box[:, 0].mean()), float(self.box[:, 1].mean())

    @property
    def width(self) -> float:
        return float(np.linalg.norm(self.box[1] - self.box[0]))

    @property
    def height(self) -> float:
        return float(np.linalg.norm(self.box[3] - self.box[0]))


class OcrEngine:
    """A RapidOCR instance; calls are serialised (onnxruntime sessions are not re-entrant here)."""

    def __init__(self, *, threads: int = 0, det_max_side: int = DET_MAX_SIDE) -> None:
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:
            raise MissingDependency("缺少文字识别组件 rapidocr。") from exc
        params: dict[str, object] = {
            "Global.log_level": "error",
            "Det.limit_type": "max",
            "Det.limit_side_len": det_max_side,
        }
        if threads:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
            params["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
        self._engine = RapidOCR(params=params)
        self._lock = threading.Lock()

    def read(self, bgr: np.ndarray) -> list[TextLine]:
        """Every text line in the image, in the image's own coordinates."""
        with self._lock:
            result = self._engine(bgr)
        if result.boxes is None or result.txts is None:
            return []
        return [
            TextLine(text=str(t), box=np.asarray(b, dtype=np.float32), score=float(s))
            for b, t, s in zip(result.boxes, result.txts, result.scores, strict=True)
        ]


@cache
def engine(threads: int = 0, det_max_side: int = DET_MAX_SIDE) -> OcrEngine:
    """The process-wide engine (created once, ~1-7 s)."""
    return OcrEngine(threads=threads, det_max_side=det_max_side)
