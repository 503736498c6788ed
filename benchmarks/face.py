"""Face-comparison benchmark: distances of same-person and different-person pairs, accuracy
at the threshold, and the true-accept rate at a 1% false-accept rate.

    python -m benchmarks.face [--variants 6]

The stored test faces hold only a few people (obama ×4, biden ×2, the talking-head
speaker), so each photo is varied (scale down to ID-portrait size, brightness, JPEG
quality, small rotation) to make pairs. This measures robustness to capture conditions
on few identities, not accuracy across a population: read it with that in mind.
"""

from __future__ import annotations

import argparse
import io
import itertools
import random
import time

import numpy as np
from PIL import Image, ImageEnhance

from benchmarks.common import machine, table
from verification import face, facenet, single_threaded
from verification.synth.clip import portrait_from_talking
from verification.synth.portrait import FACES

PEOPLE = {
    "obama": ["obama.jpg", "obama2.jpg", "obama3.jpg", "obama_small.jpg"],
    "biden": ["biden.jpg", "biden2.jpg"],
}


def vary(img: Image.Image, rng: random.Random) -> Image.Image:
    img = img.convert("RGB")
    scale = rng.choice([1.0, 0.6, 0.35])  # 0.35: about an ID-card portrait's size
    img = img.resize((max(64, round(img.width * scale)), max(64, round(img.height * scale))))
    img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.7, 1.3))
    img = img.rotate(rng.uniform(-8, 8), resample=Image.BILINEAR, expand=False)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=rng.choice([40, 70, 90]))
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def descriptor_rows(images: list[Image.Image]) -> list[list[str]]:
    """dlib's own network against ours (facenet.py) on the same aligned chips."""
    import face_recognition
    from face_recognition import api

    net = facenet.bundled()
    theirs_ms, ours_ms, diff = [], [], 0.0
    for img in images:
        rgb = np.asarray(img.convert("RGB"))
        for chip in face.chips(rgb, face_recognition.face_locations(rgb)):
            t0 = time.process_time()
            theirs = np.array(api.face_encoder.compute_face_descriptor(chip))
            t1 = time.process_time()
            ours = facenet.forward(net, chip)
            t2 = time.process_time()
            theirs_ms.append((t1 - t0) * 1000)
            ours_ms.append((t2 - t1) * 1000)
            diff = max(diff, float(np.abs(theirs - ours).max()))
    return [
        [f"descriptor CPU ms, dlib's network ({len(ours_ms)} faces, median)",
         f"{np.median(theirs_ms):.0f}"],
        ["descriptor CPU ms, the same network in numpy (median)", f"{np.median(ours_ms):.0f}"],
        ["largest difference between the two descriptors", f"{diff:.1e}"],
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variants", type=int, default=6, help="variations per photo")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    single_threaded()  # as in a verification worker
    rng = random.Random(args.seed)
    sources = [
        (person, Image.open(FACES / name)) for person, names in PEOPLE.items() for name in names
    ]
    speaker = portrait_from_talking()
    sources += [("speaker", speaker), ("speaker", portrait_from_talking(6.0))]

    codes: list[tuple[str, np.ndarray]] = []
    times = []
    missed = 0
    for person, img in sources:
        for _ in range(args.variants):
            rgb = np.asarray(vary(img, rng))
            t0 = time.process_time()
            found = face.encodings(rgb)
            times.append((time.process_time() - t0) * 1000)
            if found:
                codes.append((person, found[0]))
            else:
                missed += 1
    same, other = [], []
    for (pa, ea), (pb, eb) in itertools.combinations(codes, 2):
        (same if pa == pb else other).append(float(np.linalg.norm(ea - eb)))
    same_a, other_a = np.array(same), np.array(other)
    threshold = face.MATCH_THRESHOLD
    band = face.REVIEW_BAND
    accuracy = ((same_a < threshold).sum() + (other_a >= threshold).sum()) / (
        len(same) + len(other)
    )
    far_cut = float(np.quantile(other_a, 0.01))  # distance below which 1% of others fall
    tar = float((same_a < far_cut).mean())
    in_band = (
        (np.abs(same_a - threshold) <= band).sum() + (np.abs(other_a - threshold) <= band).sum()
    ) / (len(same) + len(other))
    print(f"# Face-comparison benchmark — {machine()}")
    print(
        f"{len(sources)} photos × {args.variants} variations; {missed} without a detected face; "
        f"{len(same)} same-person and {len(other)} different-person pairs\n"
    )
    rows = [
        ["same person: distance median / max", f"{np.median(same_a):.3f} / {same_a.max():.3f}"],
        ["different people: distance min / median", f"{other_a.min():.3f} / {np.median(other_a):.3f}"],
        [f"accuracy at threshold {threshold}", f"{100 * accuracy:.1f}%"],
        ["false accepts at threshold", f"{100 * (other_a < threshold).mean():.2f}%"],
        ["false rejects at threshold", f"{100 * (same_a >= threshold).mean():.2f}%"],
        ["distance giving 1% false accepts", f"{far_cut:.3f}"],
        ["true-accept rate at 1% false accepts", f"{100 * tar:.1f}%"],
        [f"pairs in the review band ±{band}", f"{100 * in_band:.1f}%"],
        ["detect+encode CPU ms (median)", f"{np.median(times):.0f}"],
        *descriptor_rows([img for _, img in sources]),
    ]  # fmt: skip
    print(table(["measure", "value"], rows))


if __name__ == "__main__":
    main()
