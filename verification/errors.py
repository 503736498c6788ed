"""The engine's error tree: every failure a caller may handle has a stable code."""

from __future__ import annotations

from rules.errors import InvalidIdNumber, RuleError

__all__ = ["InvalidIdNumber", "RuleError"]


class VerificationError(RuleError):
    """Base of every error the engine raises on purpose."""

    code = "verification_error"
    message = "核验失败，请稍后重试。"


class MissingDependency(VerificationError):
    """An optional heavy library the requested check needs is not installed."""

    code = "missing_dependency"
    message = "服务器缺少核验组件，请联系管理员。"


class BadImage(VerificationError):
    """The upload is not an image we can read (type, size, truncated, bomb)."""

    code = "image_invalid"
    message = "无法读取该图片，请重新拍摄或选择JPG/PNG格式的照片。"


class NotAnIdCard(VerificationError):
    """The photo shows no resident ID card portrait side."""

    code = "not_id_card"
    message = "未识别到身份证人像面，请将身份证人像面平放在画面中央重新拍摄。"


class UnknownModel(VerificationError):
    """A model file is not the one the engine knows how to read."""

    code = "model_unknown"
    message = "服务器的核验模型无法读取，请联系管理员。"
