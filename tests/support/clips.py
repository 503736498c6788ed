"""Live-check clips, built once per test run (espeak-ng speech + PyAV encoding)."""

from __future__ import annotations

from functools import cache

from PIL import Image

from verification.synth import clip
from verification.synth.portrait import FACES

DIGITS = "3729"  # what the clips say; the API tests' challenges get other digits


@cache
def talking(container: str = "mp4") -> bytes:
    """The talking-head clip's person reading digits (face present, lips moving)."""
    return clip.talking(DIGITS, container=container)


@cache
def still_photo() -> bytes:
    """A printed photo of obama.jpg moved in front of the camera while digits play."""
    return clip.still(Image.open(FACES / "obama.jpg"), DIGITS)


@cache
def silent() -> bytes:
    frames, fps = clip.talking_frames(4.0)
    return clip.encode(frames, clip.silence(4.0), fps=fps)


@cache
def talking_portrait() -> Image.Image:
    """The talking person's face, as an ID-card portrait would show it."""
    return clip.portrait_from_talking()


def declared_long(seconds: float, container: str, *, fps: int = 8, side: int = 480) -> bytes:
    """A small file that runs for `seconds`: a grey frame with a changing corner and
    silence, encoded as cheaply as an attacker would (MP4 declares its length in the
    header; a live WebM, as browsers write it, declares none)."""
    import io

    import av
    import numpy as np

    mp4 = container == "mp4"
    out = io.BytesIO()
    options = {} if mp4 else {"live": "1"}
    with av.open(out, "w", format=container, options=options) as box:
        video = box.add_stream("libx264" if mp4 else "libvpx", rate=fps)
        video.width = video.height = side
        video.pix_fmt = "yuv420p"
        video.options = (
            {"preset": "ultrafast"} if mp4 else {"deadline": "realtime", "cpu-used": "8"}
        )
        rate, step = (16_000, 1024) if mp4 else (48_000, 960)
        audio = box.add_stream("aac" if mp4 else "libopus", rate=rate)
        audio.layout = "mono"
        image = np.full((side, side, 3), 90, np.uint8)
        for i in range(int(seconds * fps)):
            image[:8, :8] = i % 255
            for packet in video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                box.mux(packet)
        for packet in video.encode(None):
            box.mux(packet)
        quiet = np.zeros((1, step), np.float32 if mp4 else np.int16)
        for i in range(int(seconds * rate / step)):
            frame = av.AudioFrame.from_ndarray(
                quiet, format="fltp" if mp4 else "s16", layout="mono"
            )
            frame.sample_rate, frame.pts = rate, i * step
            for packet in audio.encode(frame):
                box.mux(packet)
        for packet in audio.encode(None):
            box.mux(packet)
    return out.getvalue()
