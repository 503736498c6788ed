"""Entry for `flet run` and `flet build`: starts the Zikao app."""

import flet as ft

from mobile.app import ASSETS_DIR, main

if __name__ == "__main__":
    ft.run(main, assets_dir=str(ASSETS_DIR))
