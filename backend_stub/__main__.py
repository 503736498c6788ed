"""`python -m backend_stub`: migrate the database, load demo data once, serve the API.

`python -m backend_stub import-plan SITES.csv COURSES.csv --code 2027-10 --name 2027年10月
--opens 2027-08-01 --closes 2027-08-15 --tickets 2027-10-08`: add an exam session with
the exam office's plan (format in backend_stub/catalog.py); every bad row is reported
with its line number and nothing is imported.

`python -m backend_stub --processes 4 [--no-worker]`: the API in 4 processes; without
`--no-worker` the verification worker (`python -m backend_stub worker`, VERIFY_WORKERS
processes) is started beside it and stopped with it. On several machines: API hosts run
`--no-worker`, worker hosts run `worker`, all with the same DATABASE_URL, QUEUE_URL
(redis://…), SECRET_KEY and a shared DATA_DIR/media (README: Peak registration).

`python -m backend_stub add-staff USERNAME --name 姓名 --role reviewer --districts 6501`:
an exam-office account (the password is asked for; `--password-stdin` reads it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import subprocess
import sys
from pathlib import Path

import uvicorn

from backend_stub import catalog, demo
from backend_stub.config import get_settings
from backend_stub.db import Database
from backend_stub.migrate import upgrade

# Idle connections are kept this long (uvicorn's default is 5 s). The app lets its own idle
# connections go sooner (mobile.services.api.KEEPALIVE_S): a request sent on a connection
# the server is closing at that moment fails ("Server disconnected without sending a
# response"), which a candidate pausing ~5 s on a form would otherwise meet.
KEEP_ALIVE_S = 30


def serve(host: str, port: int, processes: int, with_worker: bool) -> None:
    """The API in `processes` processes (they share nothing but the database, the media
    folder and the queue), and, unless the workers run elsewhere, the verification worker
    beside them."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    with db.sessionmaker() as session:
        demo.seed(session)
        catalog.seed_demo(session)
    db.engine.dispose()
    worker = None
    if with_worker and settings.VERIFY_WORKERS > 0:
        worker = subprocess.Popen(
            [sys.executable, "-m", "backend_stub", "worker"], preexec_fn=_die_with_parent
        )
    try:
        uvicorn.run(
            "backend_stub.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=processes,
            log_level="info",
            timeout_keep_alive=KEEP_ALIVE_S,
        )
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()


def _die_with_parent() -> None:
    """In a child: be sent SIGTERM when the process that started it dies (even by SIGKILL)."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def run_worker() -> None:
    """The verification worker: VERIFY_WORKERS processes taking jobs from the queue. The
    database must be migrated already (an API process migrates it when it starts)."""
    from backend_stub import queue

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    queue.run_consumer(get_settings(), max(1, get_settings().VERIFY_WORKERS))


def import_plan(args: argparse.Namespace) -> int:
    """Check and write a plan; returns the exit code."""
    settings = get_settings()
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)

    def day(text: str) -> dt.datetime:
        # Dates are Beijing time (UTC+8); the database keeps UTC.
        return dt.datetime.fromisoformat(text) - dt.timedelta(hours=8)

    try:
        plan = catalog.parse_plan(
            Path(args.sites).read_text(encoding="utf-8"),
            Path(args.courses).read_text(encoding="utf-8"),
        )
        db = Database(settings.database_url)
        with db.sessionmaker() as session:
            exam = catalog.write_plan(
                session,
                plan,
                code=args.code,
                name=args.name,
                opens_at=day(args.opens),
                closes_at=day(args.closes) + dt.timedelta(days=1),
                tickets_from=day(args.tickets),
            )
            session.commit()
            print(
                f"已导入 {exam.name}：{len(plan.sites)} 个考点，{len(plan.majors)} 个专业，"
                f"{len(plan.courses)} 门课程。"
            )
    except catalog.PlanError as exc:
        for file, line, message in exc.problems:
            print(f"{file} 第{line}行：{message}", file=sys.stderr)
        print("计划有错误，未导入任何内容。", file=sys.stderr)
        return 1
    return 0


def add_staff(args: argparse.Namespace) -> int:
    """Create an exam-office account; the password is typed (or piped), never defaulted."""
    import getpass

    from sqlalchemy import select

    from backend_stub.models import Staff
    from backend_stub.reference import EXAM_DISTRICTS
    from backend_stub.security import hash_password

    districts = [d for d in args.districts.split(",") if d] if args.districts else []
    unknown = [d for d in districts if d not in EXAM_DISTRICTS]
    if unknown or (args.role == "reviewer" and not districts):
        print(
            f"请用 --districts 指定负责的地州代码（未知：{','.join(unknown) or '无'}）。",
            file=sys.stderr,
        )
        return 2
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("密码：")
        if getpass.getpass("再次输入密码：") != password:
            print("两次输入的密码不一致。", file=sys.stderr)
            return 2
    if len(password) < 10:
        print("密码至少10位。", file=sys.stderr)
        return 2
    settings = get_settings()
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    with db.sessionmaker() as session:
        if session.scalar(select(Staff.id).where(Staff.username == args.username)):
            print(f"用户名 {args.username} 已存在。", file=sys.stderr)
            return 1
        session.add(
            Staff(
                username=args.username,
                name=args.name,
                role=args.role,
                districts=districts if args.role == "reviewer" else [],
                password_hash=hash_password(password),
            )
        )
        session.commit()
    print(f"已创建{'管理员' if args.role == 'admin' else '审核员'} {args.username}。")
    return 0


def verify_ticket(code: str) -> int:
    """Check a 准考证's QR code (or the URL it holds); prints what it states."""
    from backend_stub import tickets

    checked = tickets.check(get_settings().DATA_DIR, code)
    if not checked.valid:
        print(f"无效：{checked.reason}", file=sys.stderr)
        return 1
    stated = checked.facts
    print(
        f"有效：{stated['name']} {stated['id']} 准考证号 {stated['ticket']}，{stated['session']}，"
        f"{stated['site']} 第{stated['room']:03d}考场 {stated['seat']:02d}号座位"
    )
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m backend_stub", description="自考报名后端服务")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--processes", type=int, default=1, help="API processes (uvicorn workers)")
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="do not start the verification worker (it runs elsewhere: `worker`)",
    )
    commands = parser.add_subparsers(dest="command")
    plan = commands.add_parser("import-plan", help="导入考试计划（考点、专业、课程）")
    plan.add_argument("sites", help="sites.csv")
    plan.add_argument("courses", help="courses.csv")
    plan.add_argument("--code", required=True, help="考试批次代码，如 2027-10")
    plan.add_argument("--name", required=True, help="考试批次名称，如 2027年10月")
    plan.add_argument("--opens", required=True, help="报考开始日期 YYYY-MM-DD（北京时间）")
    plan.add_argument("--closes", required=True, help="报考截止日期 YYYY-MM-DD（含当天）")
    plan.add_argument("--tickets", required=True, help="准考证开放打印日期 YYYY-MM-DD")
    commands.add_parser("worker", help="运行识别任务进程（VERIFY_WORKERS 个）")
    verify = commands.add_parser("verify-ticket", help="核验准考证二维码（签名与内容）")
    verify.add_argument("code", help="二维码内容（核验网址或其中的 c= 参数）")
    staff = commands.add_parser("add-staff", help="创建考试机构账号（审核员或管理员）")
    staff.add_argument("username")
    staff.add_argument("--name", required=True, help="姓名")
    staff.add_argument("--role", choices=("reviewer", "admin"), default="reviewer")
    staff.add_argument("--districts", default="", help="负责的地州代码，逗号分隔，如 6501,6502")
    staff.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")
    args = parser.parse_args()
    if args.command == "verify-ticket":
        sys.exit(verify_ticket(args.code))
    if args.command == "import-plan":
        sys.exit(import_plan(args))
    if args.command == "add-staff":
        sys.exit(add_staff(args))
    if args.command == "worker":
        run_worker()
        return
    serve(args.host, args.port, args.processes, not args.no_worker)


if __name__ == "__main__":
    main()
