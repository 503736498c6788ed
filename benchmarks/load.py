"""Peak-hour load: N simulated candidates at once, each logging in, reading the catalog,
choosing a site and courses, confirming an order and paying it — against the real
backend (a uvicorn process on loopback), on SQLite and on PostgreSQL.

The chosen site has fewer seats than candidates, so the seat race is real; every
candidate also taps 去支付 twice at once and pays both codes, so a double charge would
show. Prints latency per step, throughput, oversold seats and double charges (both must
be 0).

    python -m benchmarks.load [--candidates 200] [--seats 150] [--db sqlite,postgres]

Open loop (issue 21): candidates arrive at a given rate for a fixed time, each going from
login to paid once; per rate step it prints p50/p95/p99 per request, the throughput
reached, the server's CPU ms per candidate (all API processes, from /proc), errors, and
the invariants. Verification load: N ID-card uploads at once, with k worker processes:
queue wait and completion times, and jobs lost.

    python -m benchmarks.load --rates 5,10,20,40 --duration 20 [--processes 2] [--db sqlite]
    python -m benchmarks.load --verify 20 --workers 2 [--db sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx
from sqlalchemy import func, select, update

from backend_stub import catalog
from backend_stub.db import Database
from backend_stub.migrate import upgrade
from backend_stub.models import Candidate, ExamSite, Order, PaymentNotice, SandboxTrade
from backend_stub.security import hash_password
from benchmarks.common import machine, table
from tests.backend.factories import add_identity, unique_id_number, unique_phone
from tests.support.postgres import PostgresCluster, free_port

ROOT = Path(__file__).resolve().parents[1]
SITE = "650103"
MAJOR = "080901"
COURSES = ["00024", "00018"]
PASSWORD = "mima2026"


def prepare(url: str, count: int, seats: int, *, verified: bool = True) -> list[str]:
    """Migrate, load the demo plan, give the site `seats` seats, and add `count`
    candidates (verified, or just registered); returns their ID numbers."""
    upgrade(url)
    db = Database(url)
    password_hash = hash_password(PASSWORD)
    with db.sessionmaker() as session:
        catalog.seed_demo(session)
        session.execute(update(ExamSite).where(ExamSite.code == SITE).values(capacity=seats))
        candidates = [
            Candidate(
                id_number=unique_id_number(),
                name="考生",
                kind="new",
                phone=unique_phone(),
                password_hash=password_hash,
                exam_district="6501",
            )
            for _ in range(count)
        ]
        session.add_all(candidates)
        session.flush()
        if verified:
            add_identity(session, [c.id for c in candidates], "none")
        session.commit()
        numbers = [c.id_number for c in candidates]
    db.engine.dispose()
    return numbers


class Timings:
    def __init__(self) -> None:
        self.steps: dict[str, list[float]] = defaultdict(list)
        self.outcomes: dict[str, int] = defaultdict(int)

    async def time(self, step: str, call):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        response = await call
        self.steps[step].append((time.perf_counter() - start) * 1000)
        return response


async def log_in(client: httpx.AsyncClient, id_number: str, t: Timings) -> str:
    login = await t.time(
        "login (argon2)",
        client.post("/api/auth/login", json={"account": id_number, "password": PASSWORD}),
    )
    return login.json()["token"]


async def candidate_journey(
    client: httpx.AsyncClient, token: str, t: Timings, *, double_tap: bool = True
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    body = (await t.time("catalog", client.get("/api/catalog"))).json()
    site_id = next(s["id"] for d in body["districts"] for s in d["sites"] if s["code"] == SITE)
    chosen = await t.time(
        "select",
        client.put(
            "/api/enrollment",
            json={"site_id": site_id, "major_code": MAJOR, "course_codes": COURSES},
            headers=headers,
        ),
    )
    if chosen.status_code != 200:
        t.outcomes[f"select refused: {chosen.json()['code']}"] += 1
        return
    order = await t.time("order", client.post("/api/orders", headers=headers))
    if order.status_code != 201:
        t.outcomes[f"order refused: {order.json()['code']}"] += 1
        return
    order_id = order.json()["id"]
    # A double tap on 去支付: two codes at once, and the candidate pays both.
    codes = await asyncio.gather(
        *(
            t.time("pay (code)", client.post(f"/api/orders/{order_id}/payment", headers=headers))
            for _ in range(2 if double_tap else 1)
        )
    )
    paths = ["/" + c.json()["code_url"].split("/", 3)[3] for c in codes if c.status_code == 201]
    await asyncio.gather(*(client.get(p) for p in paths))
    await asyncio.gather(
        *(t.time("cashier pay", client.post(p, data={"action": "pay"})) for p in paths)
    )
    start = time.perf_counter()
    for _ in range(100):
        status = (await client.get(f"/api/orders/{order_id}", headers=headers)).json()["status"]
        if status == "paid":
            break
        await asyncio.sleep(0.05)
    t.steps["until paid"].append((time.perf_counter() - start) * 1000)
    t.outcomes[f"order {status}"] += 1


async def crowd(base_url: str, numbers: list[str]) -> tuple[Timings, float]:
    """Everyone logs in first (password hashing is its own CPU cost), then everyone goes
    from the catalog to paid at once: the wall time of that second phase is reported."""
    t = Timings()
    # A connection per request, as from many phones (and no reuse racing uvicorn's
    # keep-alive timeout while requests queue).
    limits = httpx.Limits(max_connections=len(numbers) * 2, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
        tokens = await asyncio.gather(*(log_in(client, n, t) for n in numbers))
        start = time.perf_counter()
        await asyncio.gather(*(candidate_journey(client, token, t) for token in tokens))
        wall = time.perf_counter() - start
    return t, wall


def audit(url: str) -> tuple[int, int, int]:
    """Seats taken beyond capacity, orders with more than one successful payment, and
    payments kept for refund."""
    db = Database(url)
    with db.sessionmaker() as session:
        oversold = 0
        for site in session.scalars(select(ExamSite)):
            live = session.scalar(
                select(func.count(Order.id)).where(
                    Order.site_id == site.id, Order.status.in_(("pending", "paid"))
                )
            )
            oversold += max(0, (live or 0) - site.capacity)
        doubles = session.scalar(
            select(func.count()).select_from(
                select(SandboxTrade.out_trade_no)
                .where(SandboxTrade.status == "TRADE_SUCCESS")
                .group_by(SandboxTrade.out_trade_no)
                .having(func.count(SandboxTrade.id) > 1)
                .subquery()
            )
        )
        refunds = session.scalar(
            select(func.count(PaymentNotice.id)).where(PaymentNotice.outcome == "refund_due")
        )
    db.engine.dispose()
    return oversold, doubles or 0, refunds or 0


def percentiles(values: list[float]) -> list[float]:
    """The 1st to 99th percentiles (q[49] is the median); one value stands for all."""
    return statistics.quantiles(values, n=100) if len(values) > 1 else values * 99


def run(db_kind: str, count: int, seats: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix=f"zikao-load-{db_kind}-"))
    url, cluster = database(db_kind, folder)
    try:
        numbers = prepare(url, count, seats)
        # The crowd comes from this one machine; in production each candidate is a
        # client address of their own, with their own budget.
        budget = str(100 * count)
        server, base = serve(
            url,
            folder,
            1,
            {"PUBLIC_PER_CLIENT_PER_MINUTE": budget, "CLIENT_FAILURES_CAPTCHA": budget},
        )
        try:
            timings, wall = asyncio.run(crowd(base, numbers))
        finally:
            server.terminate()
            server.wait(timeout=20)
        oversold, doubles, refunds = audit(url)
    finally:
        if cluster is not None:
            cluster.stop()
    rows = []
    for step, values in timings.steps.items():
        q = percentiles(values)
        rows.append([step, len(values), f"{q[49]:.0f}", f"{q[94]:.0f}", f"{q[98]:.0f}"])
    print(f"\n### {db_kind}: {count} candidates at once, {seats} seats at the site")
    print(table(["step", "requests", "p50 ms", "p95 ms", "p99 ms"], rows))
    paid = timings.outcomes.get("order paid", 0)
    print(
        f"\ncatalog → paid: {count} candidates in {wall:.1f} s ({count / wall:.1f}/s); "
        + ", ".join(f"{k}: {v}" for k, v in sorted(timings.outcomes.items()))
    )
    print(
        f"oversold seats: {oversold} · orders charged twice: {doubles} · "
        f"payments kept for refund: {refunds} · paid orders: {paid}/{seats}"
    )


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a process and all its live descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    family, grown = {pid}, True
    while grown:
        more = {child for child, parent in parents.items() if parent in family} - family
        grown = bool(more)
        family |= more
    return sum(cpu.get(p, 0.0) for p in family)


async def arriving(base_url: str, numbers: list[str], rate: float) -> tuple[Timings, float, int]:
    """Open loop: candidate i starts at i / rate seconds, whatever the others are doing;
    returns the timings, the wall time until the last one finished, and errors."""
    t = Timings()
    errors = 0
    limits = httpx.Limits(max_connections=4000, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
        start = time.perf_counter()

        async def one(i: int, number: str) -> None:
            nonlocal errors
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            try:
                token = await log_in(client, number, t)
                await candidate_journey(client, token, t, double_tap=False)
            except Exception as exc:  # a refused or broken request: counted, not hidden
                errors += 1
                t.outcomes[f"error: {type(exc).__name__}"] += 1

        await asyncio.gather(*(one(i, n) for i, n in enumerate(numbers)))
        wall = time.perf_counter() - start
    return t, wall, errors


def serve(
    url: str, folder: Path, processes: int, extra: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(folder), "DATABASE_URL": url, **extra}
    log = (folder / "backend.log").open("ab")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backend_stub",
            "--port",
            str(port),
            "--processes",
            str(processes),
            "--no-worker",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    return server, base


def database(db_kind: str, folder: Path) -> tuple[str, PostgresCluster | None]:
    if db_kind == "postgres":
        cluster = PostgresCluster()
        cluster.start()
        cluster.execute("CREATE DATABASE zikao")
        return cluster.url("zikao"), cluster
    return f"sqlite:///{folder / 'zikao.db'}", None


def open_loop(db_kind: str, rates: list[float], duration: float, processes: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix=f"zikao-open-{db_kind}-"))
    url, cluster = database(db_kind, folder)
    counts = [round(rate * duration) for rate in rates]
    # Seats for most but not all: the seat race stays real at every step.
    seats = int(0.9 * sum(counts))
    rows, summary = [], []
    try:
        numbers = prepare(url, sum(counts), seats)
        budget = str(1000 * sum(counts))
        server, base = serve(
            url,
            folder,
            processes,
            {"PUBLIC_PER_CLIENT_PER_MINUTE": budget, "CLIENT_FAILURES_CAPTCHA": budget},
        )
        try:
            taken = 0
            for rate, count in zip(rates, counts, strict=True):
                batch = numbers[taken : taken + count]
                taken += count
                cpu_before = tree_cpu_s(server.pid)
                timings, wall, errors = asyncio.run(arriving(base, batch, rate))
                cpu = tree_cpu_s(server.pid) - cpu_before
                for step, values in timings.steps.items():
                    q = percentiles(values)
                    rows.append(
                        [
                            f"{rate:g}/s",
                            step,
                            len(values),
                            f"{q[49]:.0f}",
                            f"{q[94]:.0f}",
                            f"{q[98]:.0f}",
                        ]
                    )
                paid = timings.outcomes.get("order paid", 0)
                summary.append(
                    [
                        f"{rate:g}/s",
                        count,
                        f"{count / wall:.1f}/s",
                        paid,
                        f"{1000 * cpu / count:.0f}",
                        errors,
                        ", ".join(
                            f"{k}: {v}"
                            for k, v in sorted(timings.outcomes.items())
                            if k != "order paid"
                        )
                        or "-",
                    ]
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
        oversold, doubles, refunds = audit(url)
    finally:
        if cluster is not None:
            cluster.stop()
    print(f"\n### {db_kind}, open loop, {processes} API process(es), {duration:g} s per rate")
    print(table(["offered", "step", "requests", "p50 ms", "p95 ms", "p99 ms"], rows))
    print()
    print(
        table(
            [
                "offered",
                "candidates",
                "reached",
                "paid",
                "server CPU ms/candidate",
                "errors",
                "other outcomes",
            ],
            summary,
        )
    )
    print(
        f"oversold seats: {oversold} · orders charged twice: {doubles} · "
        f"payments kept for refund: {refunds} · seats: {seats}"
    )


def verification_load(db_kind: str, uploads: int, workers: int) -> None:
    """`uploads` candidates each send an ID-card photo at once; k worker processes."""
    from backend_stub.models import VerificationJob
    from tests.backend.factories import card_photo

    folder = Path(tempfile.mkdtemp(prefix=f"zikao-verify-{db_kind}-"))
    url, cluster = database(db_kind, folder)
    try:
        numbers = prepare(url, uploads, 10, verified=False)
        extra = {"VERIFY_WORKERS": str(workers), "PUBLIC_PER_CLIENT_PER_MINUTE": "100000"}
        env = {**os.environ, "DATA_DIR": str(folder), "DATABASE_URL": url, **extra}
        worker = subprocess.Popen(
            [sys.executable, "-m", "backend_stub", "worker"],
            cwd=ROOT,
            env=env,
            stdout=(folder / "worker.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        server, base = serve(url, folder, 1, extra)
        try:
            for _ in range(600):  # the workers load their models first
                if httpx.get(base + "/healthz").json()["workers"]["ready"] >= workers:
                    break
                time.sleep(0.5)
            photos = [card_photo(name="考生", id_number=n, seed=i) for i, n in enumerate(numbers)]

            async def send_all() -> list[int]:
                limits = httpx.Limits(max_connections=uploads + 10)
                async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
                    tokens = await asyncio.gather(*(log_in(client, n, Timings()) for n in numbers))

                    async def upload(token: str, photo: bytes) -> int:
                        r = await client.post(
                            "/api/idcard",
                            files={"front": ("c.jpg", photo, "image/jpeg")},
                            headers={"Authorization": f"Bearer {token}"},
                        )
                        return int(r.json()["id"]) if r.status_code == 202 else -r.status_code

                    return await asyncio.gather(
                        *(upload(t, p) for t, p in zip(tokens, photos, strict=True))
                    )

            started = time.perf_counter()
            ids = asyncio.run(send_all())
            accepted = [i for i in ids if i > 0]
            db = Database(url)
            deadline = time.monotonic() + 60 + 10 * uploads / workers
            while time.monotonic() < deadline:
                with db.sessionmaker() as session:
                    active = session.scalar(
                        select(func.count())
                        .select_from(VerificationJob)
                        .where(VerificationJob.status.in_(("queued", "running")))
                    )
                if not active:
                    break
                time.sleep(0.5)
            wall = time.perf_counter() - started
            with db.sessionmaker() as session:
                rows = session.scalars(select(VerificationJob)).all()
            db.engine.dispose()
        finally:
            server.terminate()
            server.wait(timeout=30)
            worker.terminate()
            worker.wait(timeout=30)
    finally:
        if cluster is not None:
            cluster.stop()
    waits = [(r.started_at - r.created_at).total_seconds() for r in rows if r.started_at]
    totals = [(r.finished_at - r.created_at).total_seconds() for r in rows if r.finished_at]
    lost = len(accepted) - len(totals)

    def pct(values: list[float], p: int) -> str:
        if not values:
            return "-"
        q = percentiles(values)
        return f"{q[p - 1]:.1f}"

    print(f"\n### {db_kind}: {uploads} ID-card uploads at once, {workers} worker process(es)")
    print(
        table(
            ["", "p50 s", "p95 s", "max s"],
            [
                ["queue wait", pct(waits, 50), pct(waits, 95), f"{max(waits, default=0):.1f}"],
                [
                    "upload → answer",
                    pct(totals, 50),
                    pct(totals, 95),
                    f"{max(totals, default=0):.1f}",
                ],
            ],
        )
    )
    outcomes: dict[str, int] = defaultdict(int)
    for r in rows:
        outcomes[f"{r.status} {(r.outcome or {}).get('status')}"] += 1
    print(
        f"accepted {len(accepted)}/{uploads} (refused: {[i for i in ids if i < 0] or 'none'}), "
        f"all done in {wall:.1f} s ({len(totals) / wall:.2f} jobs/s); lost jobs: {lost}; "
        + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--seats", type=int, default=150)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--rates", help="open loop: arrivals per second, e.g. 5,10,20,40")
    parser.add_argument("--duration", type=float, default=20, help="seconds per rate")
    parser.add_argument("--processes", type=int, default=2, help="API processes (open loop)")
    parser.add_argument("--verify", type=int, help="verification load: uploads at once")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (--verify)")
    args = parser.parse_args()
    kinds = [kind.strip() for kind in args.db.split(",")]
    if args.verify:
        print(f"Machine: {machine()}")
        for kind in kinds:
            verification_load(kind, args.verify, args.workers)
        return
    if args.rates:
        print(
            f"Machine: {machine()}; load generator on the same machine; PostgreSQL with fsync off"
        )
        rates = [float(r) for r in args.rates.split(",")]
        for kind in kinds:
            open_loop(kind, rates, args.duration, args.processes)
        return
    print(f"Machine: {machine()}; backend: one uvicorn process; PostgreSQL with fsync off")
    for kind in kinds:
        run(kind, args.candidates, args.seats)


if __name__ == "__main__":
    main()
