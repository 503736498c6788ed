"""Raw video for Chromium's fake camera (`--use-file-for-fake-video-capture`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_y4m(frames: list[Image.Image], path: Path, *, fps: int = 10) -> None:
    """Write RGB frames as YUV4MPEG2 4:2:0, BT.601 limited range (what Chromium assumes)."""
    first = np.asarray(frames[0].convert("RGB"))
    h, w = first.shape[0] // 2 * 2, first.shape[1] // 2 * 2
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420\n".encode())
        for frame in frames:
            rgb = np.asarray(frame.convert("RGB"), dtype=np.float32)[:h, :w]
            r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
            y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
            u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
            v = 128 + 0.439 * r - 0.368 * g - 0.071 * b
            out.write(b"FRAME\n")
            for plane in (y, _half(u), _half(v)):
                out.write(np.clip(plane, 0, 255).round().astype(np.uint8).tobytes())


def _half(plane: np.ndarray) -> np.ndarray:
    h, w = plane.shape
    return plane.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
