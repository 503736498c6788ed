"""`python -m verification ...`: the engine's command line for testers and benchmarks."""

from __future__ import annotations

import argparse
import json
import sys

from verification.errors import InvalidIdNumber
from verification.idcard import idnumber


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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
