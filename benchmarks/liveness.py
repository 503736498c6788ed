"""Live-check benchmark: CPU time per clip by format, verdicts on the attack set, and how
well the speech model hears digits.

    python -m benchmarks.liveness [--runs 3] [--digits 60] [--model DIR]

Clips are built here: the shared talking-head clip (its speaker faces the camera for about
4 s) with Mandarin digits from espeak-ng, a printed photo moved in front of the camera,
someone else's face, silence. Target (issue 4): a 5 s 720p clip under 1.5 s CPU.
The speech model is the bundled copy of Whisper base unless --model names another
directory; `--model ""` runs without one (digits then always go to a person).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import numpy as np
from PIL import Image

from benchmarks.common import machine, peak_rss_mb, table
from verification import liveness, single_threaded, speech
from verification.synth import clip
from verification.synth.portrait import FACES

DIGITS = "3729"


def resized(frames: list[np.ndarray], size: tuple[int, int]) -> list[np.ndarray]:
    """The frames' centre at `size`'s aspect ratio, scaled to `size`."""
    h, w = frames[0].shape[:2]
    crop_w = min(w, round(h * size[0] / size[1]))
    crop_h = min(h, round(w * size[1] / size[0]))
    box = ((w - crop_w) // 2, (h - crop_h) // 2, (w + crop_w) // 2, (h + crop_h) // 2)
    return [np.asarray(Image.fromarray(f).crop(box).resize(size, Image.BILINEAR)) for f in frames]


def cpu_ms(work) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    start = time.process_time()
    out = work()
    return (time.process_time() - start) * 1000, out


def issued_digits(rng: random.Random) -> str:
    """4–6 digits by the backend's rule (make_digits): no digit twice in a row, none thrice."""
    while True:
        digits = "".join(rng.choice("0123456789") for _ in range(rng.choice((4, 5, 6))))
        if all(a != b for a, b in zip(digits, digits[1:], strict=False)) and all(
            digits.count(d) < 3 for d in digits
        ):
            return digits


def cpu_table(recogniser: speech.Recogniser | None, speaker: np.ndarray, runs: int) -> None:
    frames, fps = clip.talking_frames(4.0)
    speech4 = clip.fit_audio(clip.digit_speech(DIGITS), 4.0)
    long_frames, _ = clip.talking_frames(5.0, start=3.0)
    speech5 = clip.fit_audio(clip.digit_speech(DIGITS), 5.0)
    hd = resized(long_frames, (1280, 720))
    sd = resized(long_frames, (720, 480))
    formats = {
        "MP4 H.264+AAC 640×360 4 s": clip.encode(frames, speech4, fps=fps),
        "WebM VP8+Opus 640×360 4 s": clip.encode(frames, speech4, fps=fps, container="webm"),
        "MP4 H.264+AAC 1280×720 5 s": clip.encode(hd, speech5, fps=fps),
        "WebM VP8+Opus 1280×720 5 s": clip.encode(hd, speech5, fps=fps, container="webm"),
        # What phones write: 720p at ~5 Mbit/s; the app's 480p recording at ~2.5 Mbit/s.
        "phone MP4 1280×720 5 s 5 Mbit/s": clip.encode(hd, speech5, fps=fps, bit_rate=5_000_000),
        "phone MP4 720×480 5 s 2.5 Mbit/s": clip.encode(sd, speech5, fps=fps, bit_rate=2_500_000),
    }
    # Warm up the models once (a worker process keeps them loaded).
    warm = liveness.decode(formats["MP4 H.264+AAC 640×360 4 s"])
    liveness.analyse(warm, DIGITS, speaker, recogniser=recogniser)
    portrait_ms, codes = cpu_ms(lambda: liveness._portrait_codes(b"speaker", speaker))

    rows = []
    for label, data in formats.items():
        decode, faces, digits, verdicts = [], [], [], set()
        for _ in range(runs):
            ms, decoded = cpu_ms(lambda data=data: liveness.decode(data))
            decode.append(ms)
            ms, _ = cpu_ms(
                lambda d=decoded: liveness.analyse(d, DIGITS, speaker, portrait_codes=codes)
            )
            faces.append(ms)
            if recogniser is not None:
                ms, result = cpu_ms(
                    lambda d=decoded: liveness.analyse(
                        d, DIGITS, speaker, portrait_codes=codes, recogniser=recogniser
                    )
                )
                digits.append(ms - faces[-1])
                verdicts.add(result.verdict)
        d, f = statistics.median(decode), statistics.median(faces)
        s = statistics.median(digits) if digits else 0.0
        rows.append(
            [label, f"{len(data) / 1024:.0f} KB", f"{d:.0f}", f"{f:.0f}", f"{d + f:.0f}",
             f"{s:.0f}" if digits else "-", f"{d + f + s:.0f}", "/".join(sorted(verdicts)) or "-"]
        )  # fmt: skip
    print(f"median of {runs} runs, CPU ms (process time, all threads), models loaded\n")
    print(
        table(
            ["clip", "size", "decode", "faces+lips+VAD", "without digits", "digits (ASR)",
             "total", "verdict"],
            rows,
        )
    )  # fmt: skip
    print(
        f"\nthe ID-card portrait's encoding, once per candidate (kept for later attempts): "
        f"{portrait_ms:.0f} ms"
    )


def verdict_table(recogniser: speech.Recogniser | None, speaker: np.ndarray) -> None:
    obama = np.asarray(Image.open(FACES / "obama.jpg").convert("RGB"))
    biden2 = np.asarray(Image.open(FACES / "biden2.jpg").convert("RGB"))
    frames, fps = clip.talking_frames(4.0)
    genuine = "pass" if recogniser else "review"
    cases = [
        ("genuine: speaker reads digits", clip.talking(DIGITS), speaker, DIGITS, genuine),
        ("genuine, WebM", clip.talking(DIGITS, container="webm"), speaker, DIGITS, genuine),
        ("genuine, other digits issued", clip.talking(DIGITS), speaker, "5814", "review"),
        ("photo moved before camera", clip.still(Image.open(FACES / "obama.jpg"), DIGITS), obama, DIGITS, "fail"),
        ("photo 2 moved before camera", clip.still(Image.open(FACES / "biden.jpg"), DIGITS), biden2, DIGITS, "fail"),
        ("someone else's face", clip.talking(DIGITS), obama, DIGITS, "fail"),
        ("silence", clip.encode(frames, clip.silence(4.0), fps=fps), speaker, DIGITS, "fail"),
    ]  # fmt: skip
    rows = []
    for label, data, portrait, digits, expected in cases:
        result = liveness.analyse(liveness.decode(data), digits, portrait, recogniser=recogniser)
        m = result.measurements
        rows.append(
            [label, result.verdict, expected, ", ".join(r["code"] for r in result.reasons) or "-",
             m["face_distance"], m["mouth_movement"], m["speech_s"], m.get("digits_heard", "-")]
        )  # fmt: skip
    print(
        table(
            ["clip", "verdict", "expected", "reasons", "face dist", "lip spread", "speech s",
             "heard"],
            rows,
        )
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--digits", type=int, default=60, help="digit strings to recognise")
    parser.add_argument("--model", default=str(speech.BUNDLED_MODEL_DIR))
    args = parser.parse_args()
    single_threaded()  # as in a verification worker

    recogniser, note = speech.load_recogniser(args.model or None)
    speaker = np.asarray(clip.portrait_from_talking())
    print(f"# Live-check benchmark — {machine()}")
    print(f"speech model: {recogniser.name if recogniser else note}\n")
    cpu_table(recogniser, speaker, args.runs)
    print("\nverdicts on the attack set:\n")
    verdict_table(recogniser, speaker)
    if recogniser is not None:
        print(f"\ndigits read by espeak-ng's Mandarin voice ({args.digits} strings, 4–6 digits):\n")
        from benchmarks.attacks import digits_table

        digits_table(recogniser, args.digits)
    print(f"\npeak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
