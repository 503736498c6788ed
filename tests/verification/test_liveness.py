"""The live check on real encoded clips: genuine, attacks, formats, limits, digits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support import clips
from verification import liveness, speech
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

    def hear(self, audio: np.ndarray, issued: str) -> speech.Hearing:
        heard = speech.spoken_digits(self.transcribe(audio))
        return speech.Hearing(heard, heard == issued, 0.0 if heard == issued else -10.0)


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
    # No speech model: a person checks the digits, never a silent pass.
    assert result.verdict == "review"
    assert [r["code"] for r in result.reasons] == ["digits_unverified"]


def test_a_recogniser_that_hears_the_digits_passes_the_clip() -> None:
    heard = Transcriber("三七二九")
    decoded = liveness.decode(clips.talking())
    result = liveness.analyse(decoded, clips.DIGITS, portrait_of_speaker(), recogniser=heard)
    assert result.verdict == "pass", result.reasons
    assert result.measurements["digits_heard"] == "3729"
    # The recogniser hears the spoken part with a margin, not the silence around it.
    spoken = result.measurements["speech_s"] * liveness.SAMPLE_RATE
    assert spoken < heard.heard[0] < len(decoded.audio)


def test_digits_heard_otherwise_go_to_a_person() -> None:
    decoded = liveness.decode(clips.talking())
    # One digit off is no longer let through ("329" for "3729" passed a talking photo).
    close = liveness.analyse(
        decoded, "3729", portrait_of_speaker(), recogniser=Transcriber("3 7 2 8")
    )
    assert close.verdict == "review"
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
    assert [r["code"] for r in result.reasons] == ["no_mouth_movement", "face_flat"]


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
    h, w = decoded.frames[0].gray.shape
    assert decoded.frames[0].rgb().shape == (h, w, 3)
    assert w > h  # shown as the landscape clip it was filmed as
    assert decoded.size == (frames[0].shape[1], frames[0].shape[0])  # as filmed, not scaled
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


@pytest.mark.parametrize(
    ("container", "seconds", "most_mb"),
    # MP4 declares its length: refused from the header, before any frame is decoded.
    # A live WebM (as browsers write it) declares none: refused as soon as decoding
    # passes the limit, with only the frames of the first ~10 s ever held.
    [("mp4", 120, 5), ("webm", 40, 60)],
)
def test_a_small_file_declaring_a_long_clip_is_refused_early(
    container: str, seconds: float, most_mb: float
) -> None:
    import tracemalloc

    data = clips.declared_long(seconds, container)
    assert len(data) < 400_000
    tracemalloc.start()
    try:
        with pytest.raises(liveness.BadVideo) as caught:
            liveness.decode(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.code == "video_too_long"
    # Without the early refusal: every 0.12 s of the clip kept, ~110 MB for 40 s.
    assert peak < most_mb * 1e6, peak


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


def test_cli_prints_the_verdict_and_downloads_nothing(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    from verification.speech import BUNDLED_MODEL_DIR

    video, portrait = tmp_path / "v.mp4", tmp_path / "p.jpg"
    video.write_bytes(clips.talking())
    clips.talking_portrait().save(portrait)
    # Any attempt to open a network connection fails the run: every model is on disk.
    guard = (
        "import socket, runpy, sys\n"
        "def refuse(*a, **k): raise RuntimeError('network access attempted')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "sys.argv = ['verification', *sys.argv[1:]]\n"
        "runpy.run_module('verification', run_name='__main__')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", guard, "liveness", str(video), "--digits", "3729",
         "--portrait", str(portrait), "--model", str(BUNDLED_MODEL_DIR), "--json"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["verdict"] == "pass", result["reasons"]
    assert result["measurements"]["digits_heard"] == "3729"
    assert result["measurements"]["face_distance"] < 0.6
