"""Live check: a short video of the candidate reading server-issued digits. (Long: the
decoding with its limits, and the verdict that combines every measurement; the passive
presentation-attack signals live in `verification.pad`.)

Decides three things and reports every measurement behind them:
- a live face: a face in most frames, exactly one, the lips moving while there is speech
  (dlib's 68 landmarks on every kept frame: inner-lip gap / mouth width), and moving as a
  head does, not as a picture (`pad`: face_flat, motion_unnatural, lips_out_of_sync,
  frames_repeated);
- the same person as the ID-card portrait (median distance over the largest faces);
- the digits spoken, through a `Recogniser` when one is configured.

The verdict is `pass`, `fail` (with reasons) or `review` (a person at the exam office
decides, shown the signals and three frames): the digits never reject on their own, and an
unavailable or disagreeing recogniser never passes silently.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from verification import DLIB, pad, speech
from verification.errors import MissingDependency, VerificationError

MAX_BYTES = 20 * 1024 * 1024
MIN_SECONDS, MAX_SECONDS = 2.0, 10.0
DURATION_SLACK = 0.5  # phones stop a "10 s" recording a few frames late
MAX_FPS = 120  # frames decoded per second of clip before it counts as crafted
MAX_SIDE = 4096  # pixels on the long side of a frame
SAMPLE_STEP = 0.06  # seconds between the frames kept for the lips (syllables are ~0.25 s)
DETECTIONS = 6  # frames searched for faces (the expensive part)
ANALYSIS_SIDE = 480  # frames are analysed at most this many pixels on their long side
FACE_PRESENCE_MIN = 0.8
SEVERAL_FACES_MAX = 0.2  # share of detections with a second face that fails the check
SPEECH_MIN_SECONDS = 0.6
# Spread (90th − 10th percentile) of the inner-lip opening over speaking frames, as a
# share of mouth width. Reading digits aloud moves it by 0.1–0.4; a photo moved in front
# of the camera (pan, zoom, shake) by under 0.02. The cut sits well between.
MOUTH_MOVEMENT_MIN = 0.05
FACE_FRAMES = 3  # frames (those with the largest faces) compared with the portrait
VOICED_MARGIN = 0.4  # seconds of audio kept around the speech for the recogniser
SAMPLE_RATE = speech.SAMPLE_RATE
REASONS = {
    "no_face": "视频中未能持续检测到人脸，请正对镜头，保证光线充足。",
    "several_faces": "视频中出现了多张人脸，请确保画面中只有您本人。",
    "face_mismatch": "视频中的人脸与身份证照片不一致。",
    "no_speech": "没有检测到朗读声音，请在安静环境中大声读出屏幕上的数字。",
    "no_mouth_movement": "未检测到朗读时的口型变化，请本人正对镜头读出数字。",
    "face_flat": "视频中的人脸像一张平面照片（只有嘴部在动），请本人手持手机正对镜头重新录制。",
    "challenge_expired": "数字已过期，请重新获取数字后再录制。",
    "challenge_used": "这组数字已经使用过，请重新获取数字后再录制。",
}
REVIEW_REASONS = {
    "face_uncertain": "人脸比对结果处于临界范围，需人工确认。",
    "digits_unverified": "朗读的数字暂无法自动识别，需人工确认。",
    "digits_mismatch": "自动识别的数字与下发的数字不一致，需人工确认。",
    "motion_unnatural": "面部动作不够自然（疑似照片或合成画面），需人工确认。",
    "lips_out_of_sync": "口型与朗读声音在时间上不一致，需人工确认。",
    "frames_repeated": "视频中有大量重复画面，需人工确认。",
}


class BadVideo(VerificationError):
    """The upload is not a usable video (size, length, tracks, decoding)."""


@dataclass
class Frame:
    """A kept video frame at ≤ ANALYSIS_SIDE, as decoded (I420), upright on demand.

    Detection and landmarks work on the luma plane; only the few frames compared with
    the portrait are converted to RGB."""

    time: float  # seconds from the first frame
    i420: np.ndarray  # (h * 3 / 2, w) uint8, not yet rotated
    rotation: int  # counter-clockwise degrees still to apply

    @property
    def gray(self) -> np.ndarray:
        height = self.i420.shape[0] * 2 // 3
        return _rotate(self.i420[:height], self.rotation)

    def rgb(self) -> np.ndarray:
        import cv2

        return _rotate(cv2.cvtColor(self.i420, cv2.COLOR_YUV2RGB_I420), self.rotation)


@dataclass
class Clip:
    frames: list[Frame]
    audio: np.ndarray  # float32 mono at SAMPLE_RATE
    duration: float
    frame_count: int
    video_codec: str
    audio_codec: str
    rotation: int
    size: tuple[int, int]  # as recorded and shown (after rotation), before scaling down


def _scaled(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, ANALYSIS_SIDE / max(width, height))
    return max(2, round(width * scale) // 2 * 2), max(2, round(height * scale) // 2 * 2)


def decode(data: bytes) -> Clip:
    """Decode a phone (MP4/MOV: H.264/HEVC + AAC) or browser (WebM: VP8/VP9 + Opus) clip.

    Frames are counted and timed by their own timestamps (browser WebM has no duration),
    the container's rotation is applied, and only every SAMPLE_STEP-th second is kept."""
    try:
        import av
    except ImportError as exc:
        raise MissingDependency("缺少视频解码组件 PyAV。") from exc
    if len(data) > MAX_BYTES:
        raise BadVideo(
            f"视频文件过大（上限 {MAX_BYTES // 1024 // 1024}MB），请录制 3-6 秒的短视频。",
            code="video_too_large",
        )
    if len(data) < 1024:
        raise BadVideo("视频文件不完整，请重新录制。", code="video_unreadable")
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise BadVideo("无法读取该视频文件，请重新录制。", code="video_unreadable") from exc
    with container:
        if not container.streams.video:
            raise BadVideo("文件中没有视频画面，请重新录制。", code="video_no_video_track")
        if not container.streams.audio:
            raise BadVideo(
                "视频中没有声音，请允许使用麦克风后重新录制。", code="video_no_audio_track"
            )
        vstream, astream = container.streams.video[0], container.streams.audio[0]
        _refuse_declared(container, vstream, astream)
        # Frames are analysed at 480 px: the deblocking filter is wasted work (a third of
        # H.264 decoding time), and one thread per clip costs least CPU overall.
        vstream.thread_type = "SLICE"
        vstream.thread_count = 1
        vstream.codec_context.options = {"skip_loop_filter": "all"}
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        frames: list[Frame] = []
        chunks: list[np.ndarray] = []
        count, first, last, rotation, samples = 0, None, 0.0, 0, 0
        recorded = (0, 0)
        next_sample = 0.0
        fps = float(vstream.average_rate or 30)
        try:
            for packet in container.demux(vstream, astream):
                for frame in packet.decode():
                    if isinstance(frame, av.AudioFrame):
                        for out in resampler.resample(frame):
                            chunks.append(out.to_ndarray().reshape(-1))
                            samples += chunks[-1].size
                        if samples > LONGEST * SAMPLE_RATE:
                            raise _too_long(samples / SAMPLE_RATE)
                        continue
                    t = frame.time if frame.time is not None else count / fps
                    count += 1
                    first = t if first is None else min(first, t)
                    last = max(last, t)
                    # A clip that runs on is refused as soon as it has, not at its end:
                    # a small file can declare an hour of frames.
                    if last - first > LONGEST or count > MAX_FPS * LONGEST:
                        raise _too_long(last - first)
                    if t - first + 1e-6 >= next_sample:
                        rotation = int(frame.rotation or 0)
                        recorded = (frame.width, frame.height)
                        w, h = _scaled(frame.width, frame.height)
                        i420 = frame.to_ndarray(format="yuv420p", width=w, height=h)
                        frames.append(Frame(t - first, i420, rotation))
                        next_sample = t - first + SAMPLE_STEP
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except (av.FFmpegError, ValueError) as exc:
            if count < 2:
                raise BadVideo("视频文件已损坏，请重新录制。", code="video_unreadable") from exc
            # A truncated upload: analyse what decoded; the length rule below still applies.
        video_codec, audio_codec = vstream.codec_context.name, astream.codec_context.name
    if count < 2 or first is None:
        raise BadVideo("视频中没有可用的画面，请重新录制。", code="video_unreadable")
    audio = (
        np.concatenate(chunks).astype(np.float32) / 32768.0 if chunks else np.zeros(0, np.float32)
    )
    duration = max(last - first + 1.0 / fps, len(audio) / SAMPLE_RATE)
    if duration < MIN_SECONDS:
        raise BadVideo(
            f"视频太短（{duration:.1f} 秒），请完整读出数字，录制 3-6 秒。",
            code="video_too_short",
        )
    if duration > LONGEST:
        raise _too_long(duration)
    size = recorded[::-1] if (rotation // 90) % 2 else recorded
    return Clip(frames, audio, duration, count, video_codec, audio_codec, rotation, size)


LONGEST = MAX_SECONDS + DURATION_SLACK


def _too_long(seconds: float) -> BadVideo:
    return BadVideo(
        f"视频太长（{seconds:.1f} 秒以上），请控制在 {MAX_SECONDS:.0f} 秒以内。",
        code="video_too_long",
    )


def _refuse_declared(container: Any, vstream: Any, astream: Any) -> None:
    """Refuse from the header what would be refused after decoding: a declared length
    past the limit, or frames larger than any phone records."""
    declared = [
        container.duration / 1_000_000 if container.duration else None,
        *(
            float(s.duration * s.time_base) if s.duration and s.time_base else None
            for s in (vstream, astream)
        ),
    ]
    longest = max((d for d in declared if d is not None), default=0.0)
    if longest > LONGEST:
        raise _too_long(longest)
    width, height = vstream.codec_context.width or 0, vstream.codec_context.height or 0
    if max(width, height) > MAX_SIDE:
        raise BadVideo(
            f"视频分辨率过高（{width}×{height}），请使用手机前置摄像头录制。",
            code="video_too_large",
        )


def _rotate(image: np.ndarray, rotation: int) -> np.ndarray:
    """Turn a decoded frame upright. FFmpeg's rotation is counter-clockwise degrees."""
    turns = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(image, k=turns)) if turns else image


# --- faces and lips ---------------------------------------------------------------------


def _face_lib():  # type: ignore[no-untyped-def]
    try:
        import face_recognition
        from face_recognition import api
    except ImportError as exc:
        raise MissingDependency("缺少人脸识别组件 face_recognition。") from exc
    return face_recognition, api


@dataclass
class Result:
    verdict: str  # pass / fail / review
    reasons: list[dict[str, str]] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)
    stills: dict[str, bytes] = field(default_factory=dict)  # JPEG frames for the office

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "reasons": self.reasons, "measurements": self.measurements}


def analyse(
    clip: Clip,
    digits: str,
    portrait: np.ndarray,
    *,
    portrait_codes: list[np.ndarray] | None = None,
    recogniser: speech.Recogniser | None = None,
    recogniser_note: str = "no model configured",
    threshold: float = 0.6,
    review_band: float = 0.06,
) -> Result:
    """Liveness, identity and digits for a decoded clip against the ID-card portrait.

    `portrait_codes` are the portrait's face encodings when already known (they are the
    same for every attempt of a candidate)."""
    from verification import face as face_module

    lib, _api = _face_lib()
    m: dict[str, Any] = {
        "duration_s": round(clip.duration, 2),
        "frames": clip.frame_count,
        "video_codec": clip.video_codec,
        "audio_codec": clip.audio_codec,
        "rotation": clip.rotation,
        "size": list(clip.size),
    }
    fails: list[str] = []
    reviews: list[str] = []

    # Faces on a few frames spread over the clip.
    picks = np.unique(
        np.linspace(0, len(clip.frames) - 1, min(DETECTIONS, len(clip.frames))).round().astype(int)
    )
    detected: dict[int, list[tuple[int, int, int, int]]] = {}
    for i in picks:
        gray = clip.frames[i].gray
        with DLIB:
            boxes = lib.face_locations(gray, number_of_times_to_upsample=0, model="hog")
            if not boxes:
                boxes = lib.face_locations(gray, number_of_times_to_upsample=1, model="hog")
        detected[int(i)] = sorted(boxes, key=_area, reverse=True)
    with_face = [i for i, boxes in detected.items() if boxes]
    presence = len(with_face) / len(detected)
    several = sum(len(b) > 1 for b in detected.values()) / len(detected)
    m["face_presence"] = round(presence, 2)
    m["several_faces_share"] = round(several, 2)
    if presence < FACE_PRESENCE_MIN:
        fails.append("no_face")
    if several > SEVERAL_FACES_MAX:
        fails.append("several_faces")

    # Speech.
    probabilities = speech.speech_probabilities(clip.audio)
    chunk_s = speech.VAD_CHUNK_S
    speaking = probabilities >= speech.SPEECH_PROBABILITY
    m["speech_s"] = round(float(speaking.sum()) * chunk_s, 2)
    if m["speech_s"] < SPEECH_MIN_SECONDS:
        fails.append("no_speech")

    # Landmarks on every kept frame (cheap next to detection), then the lips while there
    # is speech (all frames when there is too little) and the passive attack signals.
    def is_speech(t: float) -> bool:
        k = int(t / chunk_s)
        return bool(speaking[max(0, k - 3) : k + 4].any())

    tracked = pad.track(clip.frames, detected)
    opening = pad.mouth_openings(tracked)
    during = np.array([is_speech(t) for t in tracked.times], bool) if speaking.size else None
    values = opening[during] if during is not None and during.sum() >= 4 else opening
    movement = (
        float(np.percentile(values, 90) - np.percentile(values, 10)) if len(values) >= 4 else 0.0
    )
    m["mouth_frames"] = len(values)
    m["mouth_movement"] = round(movement, 3)
    if with_face and "no_speech" not in fails and movement < MOUTH_MOVEMENT_MIN:
        fails.append("no_mouth_movement")
    signals = _passive(clip, tracked, opening, speaking)
    m.update({k: None if v is None else round(v, 3) for k, v in signals.items()})
    if with_face:
        flat = [
            signals["deformation"] is not None and signals["deformation"] < pad.DEFORMATION_FLAT,
            signals["upper_change"] is not None and signals["upper_change"] < pad.UPPER_CHANGE_FLAT,
        ]
        if all(flat):
            fails.append("face_flat")
        elif any(flat):
            reviews.append("motion_unnatural")
        sync = signals["lip_sync"]
        if sync is not None and sync < pad.LIP_SYNC_MIN and "no_mouth_movement" not in fails:
            reviews.append("lips_out_of_sync")
        if signals["repeated_frames"] > pad.REPEATED_MAX:
            reviews.append("frames_repeated")
    stills = _stills(clip, tracked, opening, detected, with_face)

    # Identity: the median distance of the largest faces to the portrait (~35 ms a frame).
    if portrait_codes is None:
        portrait_codes = face_module.encodings(portrait)
    m["portrait_faces"] = len(portrait_codes)
    distances: list[float] = []
    if portrait_codes and with_face:
        largest = sorted(with_face, key=lambda i: _area(detected[i][0]), reverse=True)
        for i in largest[:FACE_FRAMES]:
            codes = face_module.descriptors(clip.frames[i].rgb(), [detected[i][0]])
            if codes:
                distances.append(float(np.linalg.norm(codes[0] - portrait_codes[0])))
    m["face_frames_compared"] = len(distances)
    distance = float(np.median(distances)) if distances else None
    m["face_distance"] = None if distance is None else round(distance, 4)
    m["face_threshold"] = threshold
    if distance is not None:
        if abs(distance - threshold) <= review_band:
            reviews.append("face_uncertain")
        elif distance > threshold:
            fails.append("face_mismatch")

    # Digits: is the issued string what was read (scored against the best alternative).
    m["digits_issued"] = len(digits)
    if recogniser is None:
        m["recogniser"] = recogniser_note
        reviews.append("digits_unverified")
    elif "no_speech" not in fails:
        hearing = recogniser.hear(_voiced(clip.audio, speaking), digits)
        m["recogniser"] = recogniser.name
        m["digits_heard"] = hearing.heard
        m["digits_match"] = hearing.match
        m["digits_score"] = round(hearing.score, 2)
        if not hearing.match:
            reviews.append("digits_mismatch")

    if fails:
        return Result("fail", [{"code": c, "message": REASONS[c]} for c in fails], m, stills)
    if reviews:
        reasons = [{"code": c, "message": REVIEW_REASONS[c]} for c in dict.fromkeys(reviews)]
        return Result("review", reasons, m, stills)
    return Result("pass", [], m, stills)


def _passive(
    clip: Clip, tracked: pad.Track, opening: np.ndarray, speaking: np.ndarray
) -> dict[str, float | None]:
    syllables = pad.syllables(clip.audio, SAMPLE_RATE, speaking, speech.VAD_CHUNK_S)
    return {
        "deformation": pad.deformation(tracked),
        "upper_change": pad.upper_change(clip.frames, tracked),
        "lip_sync": pad.lip_sync(tracked, opening, syllables),
        "repeated_frames": pad.repeated_frames(clip.frames),
    }


STILL_SIDE = 240  # pixels on the long side of the head crops shown to the exam office


def _stills(
    clip: Clip,
    tracked: pad.Track,
    opening: np.ndarray,
    detected: dict[int, list[tuple[int, int, int, int]]],
    with_face: list[int],
) -> dict[str, bytes]:
    """Three small JPEG frames for the exam office: the largest face, the mouth at its
    widest and at its narrowest, each cropped to the head (the whole frame when no
    landmarks were found on it)."""
    import cv2

    picks: dict[str, int] = {}
    if with_face:
        picks["face"] = max(with_face, key=lambda i: _area(detected[i][0]))
    if len(opening):
        picks["mouth_open"] = tracked.indices[int(np.argmax(opening))]
        picks["mouth_closed"] = tracked.indices[int(np.argmin(opening))]
    out = {}
    for name, index in picks.items():
        rgb = clip.frames[index].rgb()
        rgb = _around_face(rgb, tracked, index)
        h, w = rgb.shape[:2]
        scale = STILL_SIDE / max(h, w)
        small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))))
        ok, jpeg = cv2.imencode(
            ".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80]
        )
        if ok:
            out[name] = jpeg.tobytes()
    return out


def _around_face(rgb: np.ndarray, tracked: pad.Track, index: int) -> np.ndarray:
    if index not in tracked.indices:
        return rgb
    points = tracked.points[tracked.indices.index(index)]
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    pad_x, pad_y = 0.5 * (x1 - x0), 0.6 * (y1 - y0)
    h, w = rgb.shape[:2]
    top, bottom = max(0, int(y0 - pad_y)), min(h, int(y1 + 0.3 * pad_y))
    left, right = max(0, int(x0 - pad_x)), min(w, int(x1 + pad_x))
    crop = rgb[top:bottom, left:right]
    return crop if crop.size else rgb


def _voiced(audio: np.ndarray, speaking: np.ndarray) -> np.ndarray:
    """The audio from the first to the last speech chunk, with VOICED_MARGIN around it:
    a long silent tail makes Whisper repeat what it heard."""
    chunks = np.nonzero(speaking)[0]
    if chunks.size == 0:
        return audio
    size = round(speech.VAD_CHUNK_S * SAMPLE_RATE)
    margin = round(VOICED_MARGIN * SAMPLE_RATE)
    return audio[max(0, chunks[0] * size - margin) : (chunks[-1] + 1) * size + margin]


def _area(box: tuple[int, int, int, int]) -> int:
    top, right, bottom, left = box
    return (bottom - top) * (right - left)


def check_video(
    data: bytes,
    digits: str,
    portrait_jpeg: bytes,
    model_dir: str | None = None,
    threshold: float = 0.6,
    review_band: float = 0.06,
) -> dict[str, Any]:
    """decode + analyse, for a worker process (plain arguments); BadVideo propagates.
    `stills` holds the three JPEG frames for the exam office."""
    from verification.imageio import decode as decode_image

    portrait = decode_image(portrait_jpeg).rgb
    clip = decode(data)
    recogniser, note = _cached_recogniser(model_dir)
    result = analyse(
        clip,
        digits,
        portrait,
        portrait_codes=_portrait_codes(portrait_jpeg, portrait),
        recogniser=recogniser,
        recogniser_note=note,
        threshold=threshold,
        review_band=review_band,
    )
    return {**result.as_dict(), "stills": result.stills}


_RECOGNISERS: dict[str | None, tuple[speech.Recogniser | None, str]] = {}
_PORTRAITS: dict[str, list[np.ndarray]] = {}
PORTRAITS_KEPT = 256  # a candidate's next attempt reuses the portrait's encoding


def _cached_recogniser(model_dir: str | None) -> tuple[speech.Recogniser | None, str]:
    if model_dir not in _RECOGNISERS:
        _RECOGNISERS[model_dir] = speech.load_recogniser(model_dir)
    return _RECOGNISERS[model_dir]


def _portrait_codes(portrait_jpeg: bytes, portrait: np.ndarray) -> list[np.ndarray]:
    """The portrait's face encodings, remembered by the digest of its bytes."""
    from verification import face as face_module

    key = hashlib.sha256(portrait_jpeg).hexdigest()
    if key not in _PORTRAITS:
        if len(_PORTRAITS) >= PORTRAITS_KEPT:
            _PORTRAITS.pop(next(iter(_PORTRAITS)))
        _PORTRAITS[key] = face_module.encodings(portrait)
    return _PORTRAITS[key]


def dumps(result: dict[str, Any]) -> str:
    return json.dumps(result, ensure_ascii=False, indent=2)


def container_suffix(data: bytes) -> str:
    """A file suffix for storing a clip, by its first bytes."""
    if data[4:8] == b"ftyp":
        return ".mov" if data[8:10] == b"qt" else ".mp4"
    if data[:4] == b"\x1aE\xdf\xa3":
        return ".webm"
    return ".video"
