"""Live-check benchmark: CPU time per clip by format, and verdicts on the attack set.

    python -m benchmarks.liveness [--runs 3]

Clips are built here: the shared talking-head clip (its speaker faces the camera for about
4 s) with Mandarin digits from espeak-ng, a printed photo moved in front of the camera,
someone else's face, silence. Target (issue 4): a 5 s 720p clip under 1.5 s CPU.
No speech model is configured here, so a genuine clip's best verdict is `review`.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from PIL import Image

from benchmarks.common import machine, peak_rss_mb, table
from verification import liveness
from verification.synth import clip
from verification.synth.portrait import FACES

DIGITS = "3729"


def upscale(frames: list[np.ndarray], size: tuple[int, int]) -> list[np.ndarray]:
    return [np.asarray(Image.fromarray(f).resize(size, Image.BILINEAR)) for f in frames]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    speaker = np.asarray(clip.portrait_from_talking())
    obama = np.asarray(Image.open(FACES / "obama.jpg").convert("RGB"))
    frames, fps = clip.talking_frames(4.0)
    speech4 = clip.fit_audio(clip.digit_speech(DIGITS), 4.0)
    long_frames, _ = clip.talking_frames(5.0, start=3.0)
    speech5 = clip.fit_audio(clip.digit_speech(DIGITS), 5.0)
    hd = upscale(long_frames, (1280, 720))
    formats = {
        "MP4 H.264+AAC 640×360 4 s": clip.encode(frames, speech4, fps=fps),
        "WebM VP8+Opus 640×360 4 s": clip.encode(frames, speech4, fps=fps, container="webm"),
        "MP4 H.264+AAC 1280×720 5 s": clip.encode(hd, speech5, fps=fps),
        "WebM VP8+Opus 1280×720 5 s": clip.encode(hd, speech5, fps=fps, container="webm"),
    }
    # Warm up the models once (a worker process keeps them loaded).
    liveness.analyse(liveness.decode(formats["MP4 H.264+AAC 640×360 4 s"]), DIGITS, speaker)

    rows = []
    for label, data in formats.items():
        decode_ms, total_ms = [], []
        for _ in range(args.runs):
            t0 = time.process_time()
            decoded = liveness.decode(data)
            t1 = time.process_time()
            liveness.analyse(decoded, DIGITS, speaker)
            t2 = time.process_time()
            decode_ms.append((t1 - t0) * 1000)
            total_ms.append((t2 - t0) * 1000)
        rows.append(
            [
                label,
                f"{len(data) / 1024:.0f} KB",
                f"{statistics.median(decode_ms):.0f}",
                f"{statistics.median(total_ms):.0f}",
            ]
        )
    print(f"# Live-check benchmark — {machine()}")
    print(f"median of {args.runs} runs, CPU ms (process time), models loaded\n")
    print(table(["clip", "size", "decode ms", "decode+analyse ms"], rows))

    cases = [
        ("genuine: speaker reads digits", clip.talking(DIGITS), speaker, "review"),
        ("genuine, WebM", clip.talking(DIGITS, container="webm"), speaker, "review"),
        ("photo moved before camera", clip.still(Image.open(FACES / "obama.jpg"), DIGITS), obama, "fail"),
        ("photo 2 moved before camera", clip.still(Image.open(FACES / "biden.jpg"), DIGITS), np.asarray(Image.open(FACES / "biden2.jpg").convert("RGB")), "fail"),
        ("someone else's face", clip.talking(DIGITS), obama, "fail"),
        ("silence", clip.encode(frames, clip.silence(4.0), fps=fps), speaker, "fail"),
    ]  # fmt: skip
    rows = []
    for label, data, portrait, expected in cases:
        result = liveness.analyse(liveness.decode(data), DIGITS, portrait)
        m = result.measurements
        rows.append(
            [
                label,
                result.verdict,
                expected,
                ", ".join(r["code"] for r in result.reasons) or "-",
                f"{m['face_distance']}",
                f"{m['mouth_movement']}",
                f"{m['speech_s']}",
            ]
        )
    print("\nverdicts (no speech model configured: digits always go to a person):\n")
    print(
        table(
            ["clip", "verdict", "expected", "reasons", "face dist", "lip spread", "speech s"],
            rows,
        )
    )
    print(f"\npeak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
