"""The ID-card engine on seeded synthetic photos (the real OCR models, no network)."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rules import idnumber
from verification.errors import BadImage, NotAnIdCard
from verification.idcard.back import parse_back
from verification.idcard.reader import read_card, read_front
from verification.imageio import decode
from verification.synth import idcard as synth

FACES = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "faces"


def photo(seed: int, degradation: str = "clean", **kwargs) -> tuple[synth.CardFields, bytes]:  # type: ignore[no-untyped-def]
    return synth.sample(seed, degradation, **kwargs)


def read(data: bytes):  # type: ignore[no-untyped-def]
    return read_front(decode(data).rgb)


@pytest.mark.parametrize("degradation", ["clean", "perspective", "tilt", "jpeg50", "uneven_light"])
def test_all_six_fields_are_read(degradation: str) -> None:
    fields, data = photo(7, degradation)
    reading = read(data)
    assert reading.fields == fields.as_dict()
    assert reading.id_check["valid"] and reading.id_check["conflicts"] == []
    assert reading.id_check["birth_from_id"] == fields.birth.isoformat()
    assert reading.quality.warnings == []


@pytest.mark.parametrize(
    ("degradation", "rotation", "mirrored"),
    [("rot90", 90, False), ("rot180", 180, False), ("rot270", 270, False), ("mirror", 0, True)],
)
def test_turned_and_mirrored_photos(degradation: str, rotation: int, mirrored: bool) -> None:
    fields, data = photo(11, degradation)
    reading = read(data)
    assert (reading.rotation, reading.mirrored) == (rotation, mirrored)
    assert reading.fields["id_number"] == fields.id_number
    assert reading.fields["name"] == fields.name


def test_exif_orientation_is_honoured() -> None:
    fields, data = photo(12)
    # Stored sideways with EXIF "rotate 90° clockwise to display" (6), as phones do.
    turned = Image.open(io.BytesIO(data)).transpose(Image.ROTATE_90)
    reading = read(synth.jpeg_bytes(turned, exif_orientation=6))
    assert reading.rotation == 0
    assert reading.fields["id_number"] == fields.id_number


def test_glare_asks_for_a_retake_and_heavy_glare_is_refused() -> None:
    _, data = photo(3, "glare")
    light = read(data).quality
    assert light.measurements["glare_share"] > 0.0
    _, data = photo(3, "heavy_glare")
    heavy = read(data).quality
    assert heavy.measurements["glare_share"] > light.measurements["glare_share"]
    assert "glare_severe" in heavy.warnings and heavy.refused


def test_a_small_card_asks_to_move_closer() -> None:
    _, data = photo(4, "clean", card_share=0.45)
    quality = read(data).quality
    assert "card_too_small" in quality.warnings
    assert quality.measurements["card_area_share"] < 0.35


def test_a_card_cut_off_by_the_frame() -> None:
    _, data = photo(5)
    img = Image.open(io.BytesIO(data))
    # Crop so that the card's right edge leaves the frame.
    cut = img.crop((0, 0, round(img.width * 0.83), img.height))
    reading = read(synth.jpeg_bytes(cut))
    assert "card_cut_off" in reading.quality.warnings
    assert "card_outline_not_found" in reading.quality.warnings


def test_blur_is_a_warning_only() -> None:
    fields, data = photo(6, "blur")
    reading = read(data)
    assert "blurry" in reading.quality.warnings
    assert not reading.quality.refused
    assert reading.fields["id_number"] == fields.id_number


def test_the_portrait_is_cropped_from_the_card() -> None:
    face = Image.open(FACES / "obama.jpg")
    rng = random.Random(8)
    fields = synth.random_fields(rng)
    card = synth.render_card(fields, rng=rng, portrait=face)
    data = synth.jpeg_bytes(synth.photograph(card, rng=rng))
    result, portrait, straightened = read_card(data)
    assert portrait is not None and straightened is not None
    card_view = Image.open(io.BytesIO(straightened))  # the card upright, for the candidate
    assert card_view.width == 640 and 1.4 < card_view.width / card_view.height < 1.8
    crop = Image.open(io.BytesIO(portrait))
    assert crop.height >= 300 and 0.65 < crop.width / crop.height < 0.9
    # The crop holds the face photo, not the card's text: it is mostly not the pale card.
    assert np.asarray(crop.convert("L")).mean() < 200
    assert result["portrait"]["height"] == crop.height


def test_a_watermark_does_not_enter_the_fields() -> None:
    rng = random.Random(9)
    fields = synth.random_fields(rng)
    card = synth.render_card(fields, rng=rng, watermark="样证")
    reading = read(synth.jpeg_bytes(synth.photograph(card, rng=rng)))
    for key in ("name", "sex", "ethnicity", "address"):
        assert "样" not in (reading.fields[key] or "")
    assert reading.fields["name"] == fields.name


def test_the_emblem_side_instead_of_the_portrait_side() -> None:
    rng = random.Random(10)
    back = synth.render_back(
        rng=rng,
        issuer="乌鲁木齐市公安局天山分局",
        valid_from=dt.date(2015, 3, 1),
        valid_until=dt.date(2035, 3, 1),
    )
    with pytest.raises(NotAnIdCard) as caught:
        read(synth.jpeg_bytes(synth.photograph(back, rng=rng)))
    assert caught.value.code == "emblem_side"
    assert "国徽面" in caught.value.message


def test_a_face_photo_is_not_an_id_card() -> None:
    with pytest.raises(NotAnIdCard) as caught:
        read((FACES / "obama.jpg").read_bytes())
    assert caught.value.code == "not_id_card"


def test_the_emblem_side_is_read_and_an_expired_card_refused() -> None:
    rng = random.Random(13)
    _, front = photo(13)
    expired = synth.render_back(
        rng=rng,
        issuer="武汉市公安局洪山分局",
        valid_from=dt.date(2005, 6, 1),
        valid_until=dt.date(2025, 6, 1),
    )
    result, _, _ = read_card(front, synth.jpeg_bytes(synth.photograph(expired, rng=rng)))
    assert result["back"]["issuer"] == "武汉市公安局洪山分局"
    assert result["back"]["valid_until"] == "2025-06-01"
    assert result["back"]["expired"] is True
    assert {
        "code": "card_expired",
        "severity": "refuse",
        "message": "身份证已过有效期，请使用有效身份证。",
    } in result["quality"]["warnings"]


def test_back_text_parsing() -> None:
    reading = parse_back(
        ["中华人民共和国", "居民身份证", "签发机关 喀什市公安局", "有效期限 2010.01.02-长期"],
        today=dt.date(2026, 1, 1),
    )
    assert reading.issuer == "喀什市公安局"
    assert reading.permanent and not reading.expired
    assert reading.as_dict()["valid_until"] == "长期"


def test_lookalike_characters_are_mapped() -> None:
    number = idnumber.make("650102", dt.date(1990, 1, 1), 11)
    misread = number.replace("0", "O").replace("1", "l")
    recovery = idnumber.recover(misread)
    assert recovery.valid is not None and recovery.valid.number == number
    assert not recovery.corrected


def test_a_misread_birth_digit_is_corrected_and_flagged() -> None:
    number = idnumber.make("650102", dt.date(1990, 7, 14), 123)
    misread = number[:11] + "1" + number[12:]  # month 07 read as 01
    assert not idnumber.is_valid(misread)
    recovery = idnumber.recover(misread, birth=dt.date(1990, 7, 14), sex="男")
    assert recovery.valid is not None and recovery.valid.number == number
    assert recovery.corrected


def test_an_ambiguous_error_is_never_corrected() -> None:
    number = idnumber.make("650102", dt.date(1990, 7, 14), 123)
    # An error in the order code: several single changes would make a valid number.
    wrong = number[:14] + str((int(number[14]) + 3) % 10) + number[15:]
    recovery = idnumber.recover(wrong, birth=dt.date(1990, 7, 14), sex="男")
    if recovery.valid is not None:  # the rare case where exactly one fix fits
        assert recovery.corrected
    else:
        assert len(recovery.candidates) != 1
    # Without the printed birth date and sex nothing is corrected at all.
    assert idnumber.recover(wrong).valid is None


def test_bad_files_get_precise_codes(tmp_path: Path) -> None:
    def code(data: bytes) -> str:
        with pytest.raises(BadImage) as caught:
            decode(data)
        return caught.value.code

    assert code(b"%PDF-1.4 not an image") == "image_unsupported_type"
    assert code(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64) == "image_unsupported_type"
    _, data = photo(14)
    assert code(data[: len(data) // 2]) == "image_truncated"
    assert code(data + b"\x00" * (10 * 1024 * 1024)) == "image_too_large"
    bomb = io.BytesIO()
    Image.new("1", (20000, 20000)).save(bomb, "PNG")
    assert code(bomb.getvalue()) == "image_too_many_pixels"
    cmyk = io.BytesIO()
    Image.new("CMYK", (64, 64)).save(cmyk, "JPEG")
    assert code(cmyk.getvalue()) == "image_unsupported_mode"
    animated = io.BytesIO()
    frames = [Image.new("RGB", (32, 32), c) for c in ("red", "blue")]
    frames[0].save(animated, "PNG", save_all=True, append_images=frames[1:])
    assert code(animated.getvalue()) == "image_animated"


def test_the_command_line_and_that_nothing_is_downloaded(tmp_path: Path) -> None:
    fields, data = photo(15)
    image = tmp_path / "card.jpg"
    image.write_bytes(data)
    # Any attempt to open a network connection fails the run.
    guard = (
        "import socket, runpy, sys\n"
        "def refuse(*a, **k): raise RuntimeError('network access attempted')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "sys.argv = ['verification', 'idcard', sys.argv[1], '--json', '--portrait', sys.argv[2]]\n"
        "runpy.run_module('verification', run_name='__main__')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", guard, str(image), str(tmp_path / "p.jpg")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    assert result["fields"] == fields.as_dict()
    assert (tmp_path / "p.jpg").stat().st_size > 1000


def test_a_character_read_twice_is_dropped_only_when_unambiguous() -> None:
    number = idnumber.make("420106", dt.date(1966, 4, 7), 204)
    doubled = number[:7] + number[7] + number[7:]  # "19966…": a 9 read twice
    recovery = idnumber.recover(doubled, birth=dt.date(1966, 4, 7), sex="女")
    assert recovery.valid is not None and recovery.valid.number == number
    assert recovery.corrected


def test_glare_thresholds_on_the_flat_card() -> None:
    from verification.idcard import quality

    def with_blob(share: float) -> quality.Quality:
        flat = np.full((631, 1000, 3), 200, np.uint8)
        side = int((share * 631 * 1000) ** 0.5)
        flat[100 : 100 + side, 150 : 150 + side] = 255  # clipped, outside the portrait
        quad = np.array([[100, 100], [1100, 100], [1100, 731], [100, 731]], np.float32)
        return quality.measure(np.zeros((900, 1200, 3), np.uint8), quad, flat)

    def glare(share: float) -> list[str]:
        return [w for w in with_blob(share).warnings if w.startswith("glare")]

    assert glare(0.01) == []
    assert glare(0.03) == ["glare"]
    assert quality.SEVERITY["glare"] == "retake" and not with_blob(0.03).refused
    assert glare(0.08) == ["glare_severe"] and with_blob(0.08).refused


def test_a_portrait_too_small_for_face_matching() -> None:
    from verification.idcard import quality

    shot = quality.Quality()
    shot.portrait(90)
    assert shot.warnings == ["portrait_too_small"]
    shot = quality.Quality()
    shot.portrait(300)
    assert shot.warnings == []


def test_a_16_bit_image_is_refused() -> None:
    deep = io.BytesIO()
    Image.new("I;16", (64, 64)).save(deep, "PNG")
    with pytest.raises(BadImage) as caught:
        decode(deep.getvalue())
    assert caught.value.code == "image_unsupported_mode"


def test_a_truncated_photo_is_refused_even_after_face_recognition_is_imported() -> None:
    import face_recognition  # noqa: F401  (it turns Pillow's LOAD_TRUNCATED_IMAGES on)

    _, data = photo(16)
    with pytest.raises(BadImage) as caught:
        decode(data[: len(data) // 2])
    assert caught.value.code == "image_truncated"
