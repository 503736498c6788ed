"""The live check on real encoded clips: genuine, attacks, formats, limits, digits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support import clips
from verification import liveness
from verification.synth import clip
from verification.synth.portrait import FACES


def portrait_of_speaker() -> np.ndarray:
    return np.asarray(clips.talking_portrait())


def obama() -> np.ndarray:
    return np.asarray(Image.open(FACES / "obama.jpg").convert("RGB"))


class Transcriber:
    """Stands in for a speech model: says what a model would have heard."""

    name = "test"

    def __init__(self, text: str) -> None:
        self.text = text
        self.heard: list[int] = []

    def transcribe(self, audio: np.ndarray) -> str:
        self.heard.append(len(audio))
        return self.text


@pytest.mark.parametrize("container", ["mp4", "webm"])
def test_the_speaker_reading_digits_is_live_and_the_same_person(container: str) -> None:
    decoded = liveness.decode(clips.talking(container))
    assert decoded.video_codec == ("h264" if container == "mp4" else "vp8")
    assert 3.5 < decoded.duration < 4.5
    result = liveness.analyse(decoded, clips.DIGITS, portrait_of_speaker())
    m = result.measurements
    assert m["face_presence"] >= 0.8
    assert m["mouth_movement"] >= liveness.MOUTH_MOVEMENT_MIN
    assert m["speech_s"] >= liveness.SPEECH_MIN_SECONDS
    assert m["face_distance"] < 0.6
    # No speech model configured: a person checks the digits, never a silent pass.
    assert result.verdict == "review"
    assert [r["code"] for r in result.reasons] == ["digits_unverified"]


def test_a_recogniser_that_hears_the_digits_passes_the_clip() -> None:
    heard = Transcriber("三七二九")
    result = liveness.analyse(
        liveness.decode(clips.talking()), clips.DIGITS, portrait_of_speaker(), recogniser=heard
    )
    assert result.verdict == "pass", result.reasons
    assert result.measurements["digits_heard"] == "3729"
    assert heard.heard and heard.heard[0] > 3 * liveness.SAMPLE_RATE


def test_one_digit_off_still_passes_but_other_digits_go_to_a_person() -> None:
    decoded = liveness.decode(clips.talking())
    close = liveness.analyse(
        decoded, "3729", portrait_of_speaker(), recogniser=Transcriber("3 7 2 8")
    )
    assert close.verdict == "pass"
    wrong = liveness.analyse(
        decoded, "3729", portrait_of_speaker(), recogniser=Transcriber("五六一四")
    )
    assert wrong.verdict == "review"  # never rejected on the recogniser alone
    assert [r["code"] for r in wrong.reasons] == ["digits_mismatch"]


def test_a_photo_moved_in_front_of_the_camera_fails_for_still_lips() -> None:
    result = liveness.analyse(liveness.decode(clips.still_photo()), clips.DIGITS, obama())
    assert result.measurements["face_presence"] >= 0.8
    assert result.measurements["face_distance"] < 0.6  # the right face…
    assert result.verdict == "fail"  # …but not alive
    assert [r["code"] for r in result.reasons] == ["no_mouth_movement"]


def test_someone_else_fails_the_face_comparison() -> None:
    result = liveness.analyse(liveness.decode(clips.talking()), clips.DIGITS, obama())
    assert result.verdict == "fail"
    assert "face_mismatch" in [r["code"] for r in result.reasons]
    assert result.measurements["face_distance"] > 0.6


def test_silence_fails_for_no_speech() -> None:
    result = liveness.analyse(liveness.decode(clips.silent()), clips.DIGITS, portrait_of_speaker())
    assert result.verdict == "fail"
    assert [r["code"] for r in result.reasons] == ["no_speech"]
    assert result.measurements["speech_s"] < 0.3


def test_a_rotated_phone_clip_is_turned_upright() -> None:
    frames, fps = clip.talking_frames(3.0)
    data = clip.encode(
        [np.ascontiguousarray(np.rot90(f, k=-1)) for f in frames],  # stored on its side
        clip.fit_audio(clip.digit_speech("3729"), 3.0),
        fps=fps,
        rotation=90,
    )
    decoded = liveness.decode(data)
    assert decoded.rotation in (90, -270)
    h, w = decoded.frames[0][1].shape[:2]
    assert w > h  # shown as the landscape clip it was filmed as
    result = liveness.analyse(decoded, "3729", portrait_of_speaker())
    assert result.measurements["face_presence"] >= 0.8


@pytest.mark.parametrize(("seconds", "code"), [(1.0, "video_too_short"), (11.5, "video_too_long")])
def test_length_limits(seconds: float, code: str) -> None:
    frames = [np.zeros((120, 160, 3), np.uint8)] * round(seconds * 10)
    data = clip.encode(frames, clip.silence(seconds), fps=10)
    with pytest.raises(liveness.BadVideo) as caught:
        liveness.decode(data)
    assert caught.value.code == code
    assert "秒" in caught.value.message


def test_bad_files_get_exact_codes() -> None:
    with pytest.raises(liveness.BadVideo) as caught:
        liveness.decode(b"\x00" * 5000)
    assert caught.value.code == "video_unreadable"
    with pytest.raises(liveness.BadVideo) as caught:
        liveness.decode(b"x" * (liveness.MAX_BYTES + 1))
    assert caught.value.code == "video_too_large"
    truncated = clips.talking()[:3000]
    with pytest.raises(liveness.BadVideo) as caught:
        liveness.decode(truncated)
    assert caught.value.code in ("video_unreadable", "video_too_short")


def test_a_clip_without_sound_is_refused() -> None:
    import io

    import av

    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as box:
        stream = box.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for _ in range(30):
            for packet in stream.encode(
                av.VideoFrame.from_ndarray(np.zeros((120, 160, 3), np.uint8), format="rgb24")
            ):
                box.mux(packet)
        for packet in stream.encode(None):
            box.mux(packet)
    with pytest.raises(liveness.BadVideo) as caught:
        liveness.decode(out.getvalue())
    assert caught.value.code == "video_no_audio_track"


def test_spoken_digits_and_closeness() -> None:
    assert liveness.spoken_digits("三七二九。") == "3729"
    assert liveness.spoken_digits("幺洞两 5") == "1025"
    assert liveness.digits_close("3729", "3729")
    assert liveness.digits_close("372", "3729")
    assert liveness.digits_close("3728", "3729")
    assert not liveness.digits_close("3782", "3729")
    assert not liveness.digits_close("", "3729")


def test_a_recogniser_is_only_loaded_from_a_verified_model(tmp_path: Path) -> None:
    assert liveness.load_recogniser(None) == (None, "no model configured")
    assert liveness.load_recogniser(str(tmp_path / "nowhere"))[0] is None
    (tmp_path / "model.bin").write_bytes(b"weights")
    recogniser, why = liveness.load_recogniser(str(tmp_path))  # no SHA256SUMS
    assert recogniser is None and "MissingDependency" in why
    (tmp_path / "SHA256SUMS").write_text("0" * 64 + "  model.bin\n")
    with pytest.raises(liveness.MissingDependency):
        liveness.verify_manifest(tmp_path)


def test_cli_prints_the_verdict_as_json(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    video, portrait = tmp_path / "v.mp4", tmp_path / "p.jpg"
    video.write_bytes(clips.talking())
    clips.talking_portrait().save(portrait)
    done = subprocess.run(
        [sys.executable, "-m", "verification", "liveness", str(video), "--digits", "3729",
         "--portrait", str(portrait), "--json"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["verdict"] == "review"
    assert result["measurements"]["face_distance"] < 0.6
