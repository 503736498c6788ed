"""ID-card OCR benchmark on seeded synthetic card photos.

    python -m benchmarks.idcard [--per 30] [--seed 0] [--det-side 640]

Prints per-field exact-match accuracy, the all-six-fields rate per degradation, CPU ms per
image (median, the engine on one thread) and peak RSS. Targets (issue 3): ID number ≥ 99.5%,
all six fields ≥ 97% on every degradation except heavy glare, ≤ 700 ms CPU per 1280-px photo.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

from benchmarks.common import machine, peak_rss_mb, table
from verification import single_threaded
from verification.errors import VerificationError
from verification.idcard.ocr import DET_MAX_SIDE, OcrEngine
from verification.idcard.reader import read_front
from verification.imageio import decode
from verification.synth.idcard import DEGRADATIONS, sample

FIELDS = ("name", "sex", "ethnicity", "birth", "address", "id_number")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--per", type=int, default=30, help="photos per degradation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--det-side", type=int, default=DET_MAX_SIDE)
    args = parser.parse_args()
    single_threaded()  # as in a verification worker

    started = time.process_time()
    engine = OcrEngine(threads=1, det_max_side=args.det_side)
    init_s = time.process_time() - started
    correct: dict[str, int] = defaultdict(int)
    total = 0
    per_degradation: dict[str, list[bool]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    refused: dict[str, int] = defaultdict(int)
    for index in range(args.per):
        for d_index, degradation in enumerate(DEGRADATIONS):
            seed = args.seed * 100_000 + index * len(DEGRADATIONS) + d_index
            truth, data = sample(seed, degradation)
            t0 = time.process_time()
            try:
                reading = read_front(decode(data).rgb, ocr=engine)
                got = reading.fields
                refused[degradation] += reading.quality.refused
            except VerificationError:
                got = {}
                refused[degradation] += 1
            cpu[degradation].append(time.process_time() - t0)
            expected = truth.as_dict()
            total += 1
            hits = [got.get(k) == expected[k] for k in FIELDS]
            for key, hit in zip(FIELDS, hits, strict=True):
                correct[key] += hit
            per_degradation[degradation].append(all(hits))

    print(f"# ID-card OCR benchmark — {machine()}")
    print(
        f"{args.per} photos per degradation, {total} in all, seed {args.seed}, detector max side "
        f"{args.det_side}px, engine init {init_s:.1f} s CPU\n"
    )
    print(
        table(["field", "exact match"], [[k, f"{100 * correct[k] / total:.1f}%"] for k in FIELDS])
    )
    print()
    rows = []
    for degradation in DEGRADATIONS:
        hits = per_degradation[degradation]
        rows.append(
            [
                degradation,
                f"{100 * sum(hits) / len(hits):.1f}%",
                f"{1000 * statistics.median(cpu[degradation]):.0f}",
                f"{refused[degradation]}/{len(hits)}",
            ]
        )
    print(
        table(["degradation", "all six fields", "CPU ms (median)", "refused/retake-blocked"], rows)
    )
    everything = [t for times in cpu.values() for t in times]
    print(
        f"\nmedian CPU per photo: {1000 * statistics.median(everything):.0f} ms "
        f"(1280-px clean: {1000 * statistics.median(cpu['clean']):.0f} ms); peak RSS {peak_rss_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()
