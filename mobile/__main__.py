"""`python -m mobile [--web] [--port N]`: run the app (web mode serves it for a browser)."""

from __future__ import annotations

import argparse
import os

import flet as ft

from mobile.app import ASSETS_DIR, main


def run() -> None:
    parser = argparse.ArgumentParser(prog="python -m mobile", description="自学考试报名 App")
    parser.add_argument("--web", action="store_true", help="serve the app for a browser")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8550)
    args = parser.parse_args()
    if args.web:
        # Serve only; testers open the printed URL themselves (no browser is launched).
        os.environ["FLET_FORCE_WEB_SERVER"] = "true"
        ft.run(
            main,
            view=ft.AppView.WEB_BROWSER,
            host=args.host,
            port=args.port,
            assets_dir=str(ASSETS_DIR),
            no_cdn=True,
            # CanvasKit, not skwasm (which "auto" picks in Chromium): Flet documents it as
            # much faster at the byte buffers every UI update exchanges, and with skwasm the
            # page froze for over a minute under heavy CPU load in the e2e tests (not seen
            # since the switch).
            web_renderer=ft.WebRenderer.CANVAS_KIT,
        )
    else:
        ft.run(main, assets_dir=str(ASSETS_DIR))


if __name__ == "__main__":
    run()
