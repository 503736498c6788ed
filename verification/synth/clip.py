"""Test clips for the live check: digit speech (espeak-ng) and videos (PyAV).

- `talking`: a real talking-head clip (shared test data) trimmed, with the digits read
  on its mouth openings — a face present, the mouth moving with the voice;
- `still`: a photo panned and zoomed like a phone held up to the camera — no lips moving;
- any frames with silence or with someone else's face, in MP4 (H.264/AAC) or WebM
  (VP8/Opus, written without a duration, as browsers do).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

RATE = 16_000
PINYIN = ["ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3"]
TESTDATA = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "faces"
HAMILTON = TESTDATA / "short_hamilton_clip.mp4"


def digit_speech(digits: str, *, rate: int = RATE, pause: float = 0.8) -> np.ndarray:
    """Mandarin digits from espeak-ng's `cmn-latn-pinyin` voice, `pause` s of silence
    before and after, as float32 mono at `rate`."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise RuntimeError("espeak-ng is not installed (./dev installs it)")
    text = " ".join(PINYIN[int(d)] for d in digits)
    wav = subprocess.run(
        [espeak, "-v", "cmn-latn-pinyin", "-s", "140", "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    import wave

    with wave.open(io.BytesIO(wav)) as w:
        source_rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float32)
    samples /= 32768.0
    # Linear resampling is plenty for speech detection and recognition tests.
    n = round(len(samples) * rate / source_rate)
    speech = np.interp(np.linspace(0, len(samples) - 1, n), np.arange(len(samples)), samples)
    gap = np.zeros(round(pause * rate), np.float32)
    return np.concatenate([gap, speech.astype(np.float32), gap])


def silence(seconds: float, *, rate: int = RATE, noise: float = 0.002) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.standard_normal(round(seconds * rate)) * noise).astype(np.float32)


def encode(
    frames: list[np.ndarray],
    audio: np.ndarray,
    *,
    fps: int = 25,
    rate: int = RATE,
    container: str = "mp4",
    rotation: int = 0,
    bit_rate: int | None = None,
) -> bytes:
    """Frames (RGB, equal sizes) and mono float32 audio as an MP4 (H.264 + AAC) or a WebM
    (VP8 + Opus). `rotation` is written as the container's display rotation; `bit_rate`
    (bits/s) asks for a phone's video bitrate, with P-frames only as most phones write them,
    instead of the encoder's default quality."""
    import av

    out = io.BytesIO()
    vcodec, acodec = ("libx264", "aac") if container == "mp4" else ("libvpx", "libopus")
    audio_rate = rate if acodec == "aac" else 48_000
    with av.open(out, mode="w", format=container) as box:
        vstream = box.add_stream(vcodec, rate=fps)
        h, w = frames[0].shape[:2]
        vstream.width, vstream.height = w // 2 * 2, h // 2 * 2
        vstream.pix_fmt = "yuv420p"
        if bit_rate:
            vstream.bit_rate = bit_rate
            if vcodec == "libx264":
                vstream.options = {"bf": "0"}
        if rotation:
            vstream.set_display_rotation(rotation)
        astream = box.add_stream(acodec, rate=audio_rate)
        astream.layout = "mono"
        for rgb in frames:
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(rgb[: vstream.height, : vstream.width]), format="rgb24"
            )
            for packet in vstream.encode(frame):
                box.mux(packet)
        for packet in vstream.encode(None):
            box.mux(packet)
        if audio_rate != rate:
            n = round(len(audio) * audio_rate / rate)
            audio = np.interp(np.linspace(0, len(audio) - 1, n), np.arange(len(audio)), audio)
        pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
        aframe = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        aframe.sample_rate = audio_rate
        resampler = av.AudioResampler(
            format=astream.codec_context.format.name, layout="mono", rate=audio_rate
        )
        for chunk in resampler.resample(aframe):
            for packet in astream.encode(chunk):
                box.mux(packet)
        for packet in astream.encode(None):
            box.mux(packet)
    return out.getvalue()


# The clip's speaker faces the camera from about 3.3 s to 7.4 s (profile before that).
FRONTAL_START = 3.3


def talking_frames(
    seconds: float = 4.0, *, start: float = FRONTAL_START
) -> tuple[list[np.ndarray], int]:
    """Frames of the shared talking-head clip from `start` for `seconds`, and its fps."""
    import av

    frames = []
    with av.open(str(HAMILTON)) as box:
        stream = box.streams.video[0]
        fps = round(float(stream.average_rate or 25))
        first = None
        for frame in box.decode(video=0):
            first = frame.time if first is None else first
            t = frame.time - first
            if t < start:
                continue
            if t >= start + seconds:
                break
            frames.append(frame.to_ndarray(format="rgb24"))
    return frames, fps


def portrait_from_talking(at: float = 4.5) -> Image.Image:
    """A still of the talking-head clip's person (stands in for their ID-card portrait)."""
    frames, _fps = talking_frames(0.05, start=at)
    return Image.fromarray(frames[0])


def still_frames(
    image: Image.Image, seconds: float = 4.0, *, fps: int = 25, size: tuple[int, int] = (640, 480)
) -> list[np.ndarray]:
    """A photo held up to the camera, framed on its face: slow pan and zoom plus shake."""
    import face_recognition

    rng = np.random.default_rng(1)
    img = image.convert("RGB")
    top, right, bottom, left = face_recognition.face_locations(np.asarray(img), 1)[0]
    face_h, fx, fy = bottom - top, (left + right) / 2, (top + bottom) / 2
    w, h = size
    frames = []
    n = round(seconds * fps)
    for i in range(n):
        s = i / max(1, n - 1)
        zoom = 1.0 + 0.15 * s
        # The face a third of the frame's height, zoomed in over time.
        ch = 3.0 * face_h / zoom
        cw = ch * w / h
        cx = fx + (s - 0.5) * 0.3 * face_h + rng.normal(0, 2)
        cy = fy + rng.normal(0, 2)
        box = (cx - cw / 2, cy - ch / 2, cx + cw / 2, cy + ch / 2)
        view = img.transform((w, h), Image.EXTENT, box, Image.BILINEAR, fillcolor=(40, 40, 40))
        frames.append(np.asarray(view))
    return frames


def fit_audio(audio: np.ndarray, seconds: float, *, rate: int = RATE) -> np.ndarray:
    """Pad (with near-silence) or cut audio to `seconds`."""
    n = round(seconds * rate)
    if len(audio) >= n:
        return audio[:n]
    return np.concatenate([audio, silence((n - len(audio)) / rate, rate=rate)])


def talking(digits: str, *, container: str = "mp4") -> bytes:
    """The talking-head clip with `digits` read on its own mouth openings (4 s)."""
    from verification.synth import attacks

    frames, audio, fps = attacks.genuine_reading(digits)
    return encode(frames, audio, fps=fps, container=container)


def still(
    image: Image.Image, digits: str, *, seconds: float = 4.0, container: str = "mp4"
) -> bytes:
    frames = still_frames(image, seconds)
    return encode(frames, fit_audio(digit_speech(digits), seconds), container=container)
