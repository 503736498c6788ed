"""Standard-photo content: each component on a good photo and on one made bad, the fixer's
soft cut-out, and the walk-through's hands-over-face photo."""

from __future__ import annotations

import io
from functools import cache

import numpy as np
import pytest
from PIL import Image

from verification import content, photo
from verification.synth import badphoto
from verification.synth.portrait import photo_bytes

SPEC = photo.profile("hubei")


@cache
def good(face: str = "biden.jpg") -> bytes:
    """A compliant photo: a real face, fixed to the profile with the background replaced."""
    data = photo_bytes(31, size=(1200, 1600), head_scale=0.45, face=face, background="white")
    return photo.fix(data, SPEC, replace_background=True).jpeg


FILE_CODES = {"file_too_large", "file_too_small"}  # a re-saved photo may leave the byte range


def codes(data: bytes) -> list[str]:
    return [p.code for p in photo.check(data, SPEC).problems]


def jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=90, dpi=(300, 300))
    return buffer.getvalue()


@cache
def bad(defect: str, face: str = "biden.jpg", seed: int = 1) -> bytes:
    rgb = np.asarray(Image.open(io.BytesIO(good(face))).convert("RGB"))
    return jpeg(badphoto.make(rgb, defect, seed=seed))


@pytest.mark.parametrize("face", ["biden.jpg", "obama3.jpg"])
def test_a_good_photo_passes_every_content_check(face: str) -> None:
    result = photo.check(good(face), SPEC)
    assert result.ok, result.problems
    measured = result.measurements["content"]
    assert measured["mesh"] and min(measured["eye_openness"]) > content.EYES_CLOSED_MAX
    assert measured["mouth_openness"] < content.MOUTH_OPEN_MIN
    assert abs(measured["yaw_deg"]) < content.YAW_MAX_DEG
    assert abs(measured["nose_yaw_deg"]) < content.NOSE_YAW_MAX_DEG
    assert measured["forehead_skin"] >= content.FOREHEAD_SKIN_MIN
    assert measured["lens_glare"] <= content.GLARE_SHARE_MAX
    assert measured["smile_lift"] <= content.SMILE_LIFT_MAX
    # (not measured where the head fills the frame down to the collar)
    assert measured.get("clothes_in_background", 0.0) <= content.CLOTHING_BG_SHARE_MAX


DRAWN = ["eyes_closed", "mouth_open", "dark_glasses", "shadow", "busy_background", "yaw"]
DRAWN += ["hat", "fringe", "glare", "smile", "halo", "patches", "one_shoulder", "clothing"]


# obama3.jpg's test photo is framed close: its shoulders are measured in the lowest rows.
@pytest.mark.parametrize(
    ("defect", "face"), [(d, f) for d in DRAWN for f in ("biden.jpg", "obama3.jpg")]
)
def test_each_defect_is_named(defect: str, face: str) -> None:
    expected = badphoto.DEFECTS[defect]
    found = codes(bad(defect, face=face))
    assert expected in found, found
    message = photo.MESSAGES[expected]
    assert message and all(
        ord(ch) < 0x3000 or "\u4e00" <= ch <= "\u9fff" or ch in "，。（）、" for ch in message[:4]
    )


@pytest.mark.parametrize("face", ["biden.jpg", "obama3.jpg"])
def test_clear_glasses_without_glare_are_allowed(face: str) -> None:
    found = codes(bad("clear_glasses", face=face))
    assert not set(found) - FILE_CODES, found


def test_hair_and_a_hat_over_the_forehead_are_told_apart() -> None:
    assert "headwear" not in codes(bad("fringe")) and "brows_covered" not in codes(bad("hat"))


@pytest.mark.parametrize("defect", ["hands", "mask"])
def test_something_over_the_face_is_refused(defect: str) -> None:
    found = codes(bad(defect, face="obama3.jpg"))
    assert {"face_covered", "no_face"} & set(found), found


def test_what_the_fixer_cannot_put_right_is_not_offered_to_it() -> None:
    from rules import photo as rules

    assert not rules.fixable(["headwear", "eyes_closed", "glasses_glare"], SPEC)
    assert rules.fixable(["headwear", "file_too_large"], SPEC)
    assert rules.fixable(["cutout_halo"], SPEC)  # a new background puts that right…
    assert not rules.fixable(["cutout_halo"], photo.profile("sichuan"))  # …where allowed
    fixed = photo.fix(bad("hat"), SPEC, replace_background=True)
    assert "headwear" in codes(fixed.jpeg)  # and the fixer never claims otherwise


def test_the_walk_through_photo_with_both_hands_over_the_face_is_refused() -> None:
    rgb = np.asarray(Image.open(io.BytesIO(good("obama3.jpg"))).convert("RGB")).copy()
    p = content.landmarks(rgb)
    assert p is not None
    face_w = float(p[454, 0] - p[234, 0])
    skin = badphoto._skin(rgb, p)
    import random

    work = rgb.astype(np.float32)
    # Both hands: one over the mouth, one over an eye.
    for k, centre in enumerate(((p[1, 0], p[14, 1]), (p[1, 0] + 0.3 * face_w, p[159, 1]))):
        badphoto._hand(work, centre, 0.55 * face_w, skin, 10.0, random.Random(k))
    work[: rgb.shape[0] // 6, : rgb.shape[1] // 5] = 0  # the black rectangle a bad cut-out left
    result = photo.check(jpeg(np.clip(work, 0, 255).astype(np.uint8)), SPEC)
    found = [p.code for p in result.problems]
    assert not result.ok
    assert {"face_covered", "no_face"} & set(found), found
    assert "background_uneven" in found or "background_patches" in found, found


def test_the_fixer_cuts_out_with_a_soft_edge_its_checker_accepts() -> None:
    data = photo_bytes(41, size=(1200, 1600), head_scale=0.45, face="obama3.jpg", background="gray")
    fixed = photo.fix(data, SPEC, replace_background=True)
    assert fixed.report["background"].startswith("replaced (selfie segmentation")
    assert 0 < fixed.report["edge_band_px"] < 6  # feathered, not a hard cut, not a smear
    assert photo.check(fixed.jpeg, SPEC).ok


def test_the_photo_check_with_its_content_models_downloads_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    import subprocess
    import sys

    image = tmp_path / "photo.jpg"
    image.write_bytes(good())
    guard = (
        "import socket, runpy, sys\n"
        "def refuse(*a, **k): raise RuntimeError('network access attempted')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "sys.argv = ['verification', 'photo', 'check', sys.argv[1], '--json']\n"
        "runpy.run_module('verification', run_name='__main__')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", guard, str(image)], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["ok"] and result["measurements"]["content"]["mesh"]


def test_checks_in_parallel_threads_share_the_models_safely() -> None:
    from concurrent.futures import ThreadPoolExecutor

    photos = [good("biden.jpg"), good("obama3.jpg")] * 3
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda data: photo.check(data, SPEC), photos))
    assert all(r.ok for r in results), [r.problems for r in results if not r.ok]
