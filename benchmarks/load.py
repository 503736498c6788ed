"""Peak-hour load: N simulated candidates at once, each logging in, reading the catalog,
choosing a site and courses, confirming an order and paying it — against the real
backend (a uvicorn process on loopback), on SQLite and on PostgreSQL.

The chosen site has fewer seats than candidates, so the seat race is real; every
candidate also taps 去支付 twice at once and pays both codes, so a double charge would
show. Prints latency per step, throughput, oversold seats and double charges (both must
be 0).

    python -m benchmarks.load [--candidates 200] [--seats 150] [--db sqlite,postgres]
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


def prepare(url: str, count: int, seats: int) -> list[str]:
    """Migrate, load the demo plan, give the site `seats` seats, and add `count`
    verified candidates; returns their ID numbers."""
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


async def candidate_journey(client: httpx.AsyncClient, token: str, t: Timings) -> None:
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
            for _ in range(2)
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


def run(db_kind: str, count: int, seats: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix=f"zikao-load-{db_kind}-"))
    cluster = None
    if db_kind == "postgres":
        cluster = PostgresCluster()
        cluster.start()
        cluster.execute("CREATE DATABASE zikao")
        url = cluster.url("zikao")
    else:
        url = f"sqlite:///{folder / 'zikao.db'}"
    try:
        numbers = prepare(url, count, seats)
        port = free_port()
        env = {**os.environ, "DATA_DIR": str(folder), "DATABASE_URL": url}
        # The crowd comes from this one machine; in production each candidate is a
        # client address of their own, with their own budget.
        env["PUBLIC_PER_CLIENT_PER_MINUTE"] = str(100 * count)
        env["CLIENT_FAILURES_CAPTCHA"] = str(100 * count)
        log = (folder / "backend.log").open("wb")
        server = subprocess.Popen(
            [sys.executable, "-m", "backend_stub", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
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
        q = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--seats", type=int, default=150)
    parser.add_argument("--db", default="sqlite,postgres")
    args = parser.parse_args()
    print(f"Machine: {machine()}; backend: one uvicorn process; PostgreSQL with fsync off")
    for kind in args.db.split(","):
        run(kind.strip(), args.candidates, args.seats)


if __name__ == "__main__":
    main()
