"""The standard photo: every rule, and that the fixer's output always passes the checker."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageEnhance, ImageFilter

from verification import photo
from verification.errors import BadImage
from verification.synth.portrait import FACES, photo_bytes
from verification.synth.portrait import photo as portrait

HUBEI = photo.profile("hubei")


def jpeg(img: Image.Image, **kwargs) -> bytes:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", **kwargs)
    return buffer.getvalue()


def codes(data: bytes, spec: photo.Profile = HUBEI) -> set[str]:
    return {p.code for p in photo.check(data, spec).problems}


@pytest.fixture(scope="module")
def compliant() -> bytes:
    return photo.fix(photo_bytes(1), HUBEI).jpeg


def test_a_fixed_photo_passes_every_rule(compliant: bytes) -> None:
    result = photo.check(compliant, HUBEI)
    assert result.ok, result.as_dict()
    m = result.measurements
    assert (m["width"], m["height"], m["dpi"]) == (480, 640, [300, 300])
    assert 20 <= m["kilobytes"] <= 40


INPUTS = [
    dict(seed=1, size=(600, 800), head_scale=0.45, quality=90),
    dict(seed=2, size=(1200, 1600), head_scale=0.35, offset=(0.08, 0.0), quality=70),
    dict(seed=3, size=(3000, 4000), head_scale=0.5, quality=95),  # 12 megapixels
    dict(seed=4, size=(1200, 1600), head_scale=0.3, exif_orientation=6, quality=85),
    dict(seed=5, size=(1200, 1600), head_scale=0.4, exif_orientation=3, quality=60),
    dict(
        seed=6,
        size=(900, 1200),
        head_scale=0.55,
        offset=(-0.07, 0.02),
        exif_orientation=8,
        quality=92,
    ),
    dict(seed=7, size=(1200, 1600), head_scale=0.42, background="light_blue", quality=80),
    dict(seed=8, size=(1500, 2000), head_scale=0.38, face="biden.jpg", quality=88),
    dict(seed=9, size=(1200, 1600), head_scale=0.45, face="biden.jpg", quality=75),
    dict(seed=10, size=(2400, 3200), head_scale=0.33, offset=(0.05, 0.03), quality=50),
]


@pytest.mark.parametrize("params", INPUTS, ids=lambda p: f"seed{p['seed']}")
def test_the_fixer_output_always_passes_the_checker(params: dict) -> None:
    spec = HUBEI if params.get("background") != "light_blue" else photo.profile("sichuan")
    fixed = photo.fix(photo_bytes(**params), spec)
    result = photo.check(fixed.jpeg, spec)
    assert result.ok, (fixed.report, result.as_dict())


def test_the_background_is_kept_unless_replacing_is_asked_for() -> None:
    white = photo_bytes(11, background="white")
    kept = photo.fix(white, HUBEI)
    assert kept.report["background"] == "kept"
    assert codes(kept.jpeg) == {"background_color"}
    replaced = photo.fix(white, HUBEI, replace_background=True)
    assert replaced.report["background"].startswith("replaced")
    assert replaced.report["edge_band_px"] < 10
    assert photo.check(replaced.jpeg, HUBEI).ok


def test_a_profile_that_forbids_background_edits() -> None:
    with pytest.raises(photo.CannotFix) as caught:
        photo.fix(
            photo_bytes(12, background="white"), photo.profile("sichuan"), replace_background=True
        )
    assert caught.value.code == "background_edit_not_allowed"


def test_file_rules(compliant: bytes) -> None:
    img = Image.open(io.BytesIO(compliant))
    png = io.BytesIO()
    img.save(png, "PNG", dpi=(300, 300))
    assert "not_jpeg" in codes(png.getvalue())
    assert "dpi_not_set" in codes(jpeg(img, quality=90))
    assert "file_too_large" in codes(jpeg(img, quality=100, subsampling=0, dpi=(300, 300)))
    assert "file_too_small" in codes(jpeg(img, quality=10, dpi=(300, 300)))
    assert "wrong_dimensions" in codes(jpeg(img.resize((360, 480)), quality=95, dpi=(300, 300)))
    # The phone's check needs no face detector and decodes no pixels.
    assert {p.code for p in photo.check_file(png.getvalue(), HUBEI).problems} >= {"not_jpeg"}


def fixed_from(img: Image.Image) -> bytes:
    return photo.fix(jpeg(img, quality=92), HUBEI).jpeg


def test_composition_rules(compliant: bytes) -> None:
    img = Image.open(io.BytesIO(compliant))
    small_head = Image.new("RGB", img.size, (67, 142, 219))
    small_head.paste(img.resize((240, 320)), (120, 320))
    assert "head_too_small" in codes(jpeg(small_head, quality=95, dpi=(300, 300)))
    big = img.crop((69, 45, 411, 502)).resize((480, 640))
    assert "head_too_large" in codes(jpeg(big, quality=95, dpi=(300, 300)))
    shifted = Image.new("RGB", img.size, (67, 142, 219))
    shifted.paste(img, (90, 0))
    assert "head_off_center" in codes(jpeg(shifted, quality=95, dpi=(300, 300)))
    tilted = img.rotate(16, resample=Image.BICUBIC, fillcolor=(67, 142, 219))
    assert "head_tilted" in codes(jpeg(tilted, quality=95, dpi=(300, 300)))


def test_exposure_and_colour_rules(compliant: bytes) -> None:
    img = Image.open(io.BytesIO(compliant))
    assert "blurry" in codes(
        jpeg(img.filter(ImageFilter.GaussianBlur(6)), quality=95, dpi=(300, 300))
    )
    assert "too_dark" in codes(
        jpeg(ImageEnhance.Brightness(img).enhance(0.3), quality=95, dpi=(300, 300))
    )
    assert "too_bright" in codes(
        jpeg(ImageEnhance.Brightness(img).enhance(3.0), quality=95, dpi=(300, 300))
    )
    assert "grayscale" in codes(jpeg(img.convert("L").convert("RGB"), quality=95, dpi=(300, 300)))


def test_background_rules() -> None:
    uneven = photo.fix(photo_bytes(13, uneven=True), HUBEI).jpeg
    assert "background_uneven" in codes(uneven)
    assert "background_color" in codes(photo.fix(photo_bytes(14, background="red"), HUBEI).jpeg)


def test_faces_none_or_several() -> None:
    blank = jpeg(Image.new("RGB", (480, 640), (67, 142, 219)), quality=95, dpi=(300, 300))
    assert "no_face" in codes(blank)
    with pytest.raises(photo.CannotFix) as caught:
        photo.fix(blank, HUBEI)
    assert caught.value.code == "no_face"
    two = (FACES / "two_people.jpg").read_bytes()
    assert "several_faces" in codes(two)
    with pytest.raises(photo.CannotFix):
        photo.fix(two, HUBEI)


def test_the_size_search_says_why_rather_than_padding() -> None:
    demanding = dataclasses.replace(HUBEI, min_bytes=400 * 1024, max_bytes=500 * 1024)
    with pytest.raises(photo.CannotFix) as caught:
        photo.fix(photo_bytes(15), demanding)
    assert caught.value.code == "photo_too_little_detail"
    assert "最小文件大小" in caught.value.message


def test_bad_files_are_refused() -> None:
    cmyk = io.BytesIO()
    Image.new("CMYK", (480, 640)).save(cmyk, "JPEG")
    with pytest.raises(BadImage):
        photo.check(cmyk.getvalue(), HUBEI)
    with pytest.raises(BadImage):
        photo.fix(b"GIF89a not really", HUBEI)


def test_the_command_line(tmp_path: Path) -> None:
    source = tmp_path / "me.jpg"
    source.write_bytes(photo_bytes(16))
    out = tmp_path / "fixed.jpg"
    run = subprocess.run(
        [sys.executable, "-m", "verification", "photo", "fix", str(source), str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["check"]["ok"] is True
    check = subprocess.run(
        [sys.executable, "-m", "verification", "photo", "check", str(source), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 1
    assert "wrong_dimensions" in {p["code"] for p in json.loads(check.stdout)["problems"]}
    assert portrait(16).size == (1200, 1600)
