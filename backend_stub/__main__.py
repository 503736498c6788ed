"""`python -m backend_stub`: migrate the database, load demo data once, serve the API."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from backend_stub import catalog, demo
from backend_stub.app import create_app
from backend_stub.config import get_settings
from backend_stub.migrate import upgrade


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m backend_stub", description="自考报名后端服务")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    app = create_app(settings)
    with app.state.db.sessionmaker() as session:
        demo.seed(session)
        catalog.seed_demo(session)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
