"""Face descriptors: dlib's network run with numpy gives dlib's numbers."""

from __future__ import annotations

from pathlib import Path

import face_recognition
import face_recognition_models
import numpy as np
import pytest
from face_recognition import api
from PIL import Image

from verification import face, facenet
from verification.errors import UnknownModel
from verification.synth.portrait import FACES

PEOPLE = ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "biden2.jpg", "two_people.jpg"]


def rgb(name: str) -> np.ndarray:
    return np.asarray(Image.open(FACES / name).convert("RGB"))


@pytest.mark.parametrize("name", PEOPLE)
def test_the_numpy_network_gives_dlibs_descriptors(name: str) -> None:
    image = rgb(name)
    boxes = face_recognition.face_locations(image)
    assert boxes
    ours = face.descriptors(image, boxes)
    theirs = face_recognition.face_encodings(image, boxes, num_jitters=1)
    assert len(ours) == len(theirs) == len(boxes)
    for a, b in zip(ours, theirs, strict=True):
        assert np.abs(a - b).max() < 1e-5


def test_on_a_chip_the_network_matches_dlib_on_every_number() -> None:
    rng = np.random.default_rng(3)
    net = facenet.bundled()
    image = rgb("biden.jpg")
    chips = face.chips(image, face_recognition.face_locations(image))
    assert len(chips) == 1 and chips[0].shape == (150, 150, 3)
    chips.append(rng.integers(0, 256, (150, 150, 3), dtype=np.uint8))  # not a face: still equal
    for chip in chips:
        theirs = np.array(api.face_encoder.compute_face_descriptor(chip))
        assert np.abs(facenet.forward(net, chip) - theirs).max() < 1e-5


def test_same_person_close_other_person_far() -> None:
    same = face.compare(rgb("obama.jpg"), rgb("obama2.jpg"))
    other = face.compare(rgb("obama.jpg"), rgb("biden.jpg"))
    assert same.verdict == "match" and same.distance is not None and same.distance < 0.5
    assert other.verdict == "no_match" and other.distance is not None and other.distance > 0.7


def test_another_model_file_is_refused() -> None:
    with pytest.raises(UnknownModel):
        facenet.load(face_recognition_models.pose_predictor_five_point_model_location())
    with pytest.raises(ValueError):
        facenet.forward(facenet.bundled(), np.zeros((100, 100, 3), np.uint8))


def test_a_damaged_model_file_is_refused(tmp_path: Path) -> None:
    data = Path(face_recognition_models.face_recognition_model_location()).read_bytes()
    damaged = tmp_path / "model.dat"
    damaged.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnknownModel):
        facenet.load(damaged)
