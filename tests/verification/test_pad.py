"""Presentation-attack detection: each passive signal on a genuine and on an attack clip,
and the verdict on every attack class even when the digits are confirmed."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from verification import liveness, pad, speech
from verification.synth import attacks, clip

DIGITS = "3729"


class Confirms:
    """A recogniser that hears `said` (what the clip really reads)."""

    name = "test"

    def __init__(self, said: str) -> None:
        self.said = said

    def transcribe(self, audio: np.ndarray) -> str:
        return self.said

    def hear(self, audio: np.ndarray, issued: str) -> speech.Hearing:
        return speech.Hearing(self.said, self.said == issued, 0.0 if self.said == issued else -9)


@cache
def checked(kind: str, variant: int = 0) -> liveness.Result:
    sample = (
        attacks.genuine(DIGITS, variant)
        if kind == "genuine"
        else attacks.attack(kind, DIGITS, variant)
    )
    said = sample.variant.split()[-1] if kind == "old_digits" else DIGITS
    return liveness.analyse(
        liveness.decode(sample.data), sample.digits, sample.portrait, recogniser=Confirms(said)
    )


def test_a_genuine_reading_moves_like_a_head_and_passes() -> None:
    result = checked("genuine")
    m = result.measurements
    assert m["deformation"] >= pad.DEFORMATION_FLAT
    assert m["upper_change"] >= pad.UPPER_CHANGE_FLAT
    assert m["repeated_frames"] < pad.REPEATED_MAX
    assert m["lip_sync"] >= pad.LIP_SYNC_MIN
    assert result.verdict == "pass", result.reasons
    assert sorted(result.stills) == ["face", "mouth_closed", "mouth_open"]
    assert all(jpeg[:2] == b"\xff\xd8" for jpeg in result.stills.values())


@pytest.mark.parametrize("variant", [0, 1, 4])
def test_a_talking_photo_is_flat_and_never_passes(variant: int) -> None:
    result = checked("talking_photo", variant)
    m = result.measurements
    assert m["mouth_movement"] >= liveness.MOUTH_MOVEMENT_MIN  # the warp does move the lips
    assert m["deformation"] < pad.DEFORMATION_FLAT
    assert result.verdict == "fail"
    assert "face_flat" in [r["code"] for r in result.reasons]


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("still_pan", "fail"),
        ("still_shake", "fail"),
        ("other_person", "fail"),
        ("old_digits", "review"),
        ("dubbed", "review"),
    ],
)
def test_each_attack_class_is_refused_or_sent_to_a_person(kind: str, expected: str) -> None:
    result = checked(kind, 1)
    assert result.verdict == expected, result.reasons


def test_a_frozen_picture_counts_as_repeated_frames() -> None:
    frames, fps = clip.talking_frames(3.0)
    frozen = [frames[0]] * len(frames)
    decoded = liveness.decode(
        clip.encode(frozen, clip.fit_audio(clip.digit_speech(DIGITS), 3.0), fps=fps)
    )
    assert pad.repeated_frames(decoded.frames) > pad.REPEATED_MAX
    live = liveness.decode(
        clip.encode(frames, clip.fit_audio(clip.digit_speech(DIGITS), 3.0), fps=fps)
    )
    assert pad.repeated_frames(live.frames) < 0.1


def test_lip_sync_scores_syllables_on_open_mouths_above_chance() -> None:
    times = np.arange(0, 4, 0.12)
    openings = 0.05 + 0.3 * (np.sin(2 * np.pi * times / 0.8) > 0.7)
    track = pad.Track(list(range(len(times))), times, np.zeros((len(times), 68, 2)))
    on_peaks = [0.2, 1.0, 1.8, 2.6, 3.4]  # where the mouth is open
    between = [0.6, 1.4, 2.2, 3.0]  # where it is shut
    assert pad.lip_sync(track, openings, on_peaks) > 1.0
    assert pad.lip_sync(track, openings, between) < 0.0
