"""Drives a Flet (Flutter web) page through its accessibility tree."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class FlutterPage:
    """A page of the app; controls are found by their `ft.Semantics(identifier=...)`."""

    def __init__(self, page: Page, base_url: str, artifacts: Path) -> None:
        self.page = page
        self.base_url = base_url.rstrip("/")
        self.artifacts = artifacts

    def open(self, route: str = "/") -> None:
        self.page.goto(self.base_url + route)
        self._accessible(route)

    def reload(self) -> None:
        """Reload the tab, as a candidate pulling down to refresh would."""
        self.page.reload()
        self._accessible("(reload)")

    def _accessible(self, route: str) -> None:
        placeholder = self.page.locator("flt-semantics-placeholder")
        placeholder.wait_for(state="attached", timeout=60_000)
        # Flutter builds its accessibility tree only once asked to. On a busy machine the
        # first ask can come before Flutter listens: ask again until the tree appears.
        tree = self.page.locator("[flt-semantics-identifier]").first
        for _ in range(6):
            if placeholder.count():
                placeholder.dispatch_event("click")
            try:
                tree.wait_for(state="attached", timeout=10_000)
                return
            except PlaywrightTimeout:
                continue
        raise AssertionError(f"the app at {route} built no accessibility tree in 60 s")

    def control(self, identifier: str) -> Locator:
        return self.page.locator(f'[flt-semantics-identifier="{identifier}"]').first

    def wait_for(self, identifier: str, timeout: float = 30_000) -> Locator:
        locator = self.control(identifier)
        try:
            locator.wait_for(state="visible", timeout=timeout)
        except PlaywrightTimeout as exc:
            raise AssertionError(f"{identifier} did not show: {self.describe()}") from exc
        return locator

    def wait_for_hidden(self, identifier: str, timeout: float = 30_000) -> None:
        try:
            self.control(identifier).wait_for(state="hidden", timeout=timeout)
        except PlaywrightTimeout as exc:
            raise AssertionError(f"{identifier} did not go away: {self.describe()}") from exc

    def _controls(self) -> list[tuple[str, str]]:
        """Each control's identifier and text, in page order."""
        return self.page.eval_on_selector_all(
            "[flt-semantics-identifier]",
            "els => els.map(e => [e.getAttribute('flt-semantics-identifier'), e.innerText])",
        )

    def describe(self) -> str:
        """Where the app is and which controls it shows: what a failed wait reports."""
        try:
            shown = [name for name, _text in self._controls()]
        except Exception as exc:  # The page itself may be gone; say so.
            return f"the page cannot be read ({exc})"
        return f"at {self.page.url} showing {shown}\n{self.texts()[:4000]}"

    def texts(self) -> str:
        """Every control's identifier and text, one per line: what a failure leaves behind."""
        try:
            return "\n".join(f"{name}: {text!r}" for name, text in self._controls())
        except Exception as exc:
            return f"the page cannot be read ({exc})"

    def scroll_into_view(self, locator: Locator) -> None:
        """Scroll Flutter's own scroll view (the DOM does not scroll) until `locator` shows."""
        viewport = self.page.viewport_size or {"width": 412, "height": 860}
        for _ in range(30):
            box = locator.bounding_box()
            if box is None:
                break
            top, bottom = box["y"], box["y"] + box["height"]
            if top >= 60 and bottom <= viewport["height"] - 10:
                return
            delta = (
                (bottom - viewport["height"] + 120)
                if bottom > viewport["height"] - 10
                else (top - 120)
            )
            self.page.mouse.move(viewport["width"] / 2, viewport["height"] / 2)
            self.page.mouse.wheel(0, delta)
            self.page.wait_for_timeout(250)

    def click(self, identifier: str) -> None:
        locator = self.wait_for(identifier)
        self.scroll_into_view(locator)
        try:
            locator.click()
        except PlaywrightTimeout as exc:
            raise AssertionError(f"{identifier} could not be clicked: {self.describe()}") from exc

    def _editor(self, identifier: str) -> Locator:
        """Focus a text field (a click is needed first): its DOM input, which Flutter
        fills with the field's text once it has taken the focus."""
        self.click(identifier)
        field = self.control(identifier).locator("input, textarea").first
        field.wait_for(state="attached", timeout=10_000)
        return field

    def _settled_value(self, field: Locator) -> str:
        """The input's text two frames on: Flutter hands a newly focused input its text
        in a frame after the click, and overwrites what came before."""
        return str(
            field.evaluate(
                "el => new Promise(done => requestAnimationFrame("
                "() => requestAnimationFrame(() => done(el.value))))"
            )
        )

    def fill(self, identifier: str, text: str) -> None:
        """Type into a text field; the text must still be there once Flutter has it."""
        field = self._editor(identifier)
        for _ in range(3):
            field.fill(text)
            if (kept := self._settled_value(field)) == text:
                return
        raise AssertionError(f"{identifier} kept {kept!r}, not {text!r}: {self.describe()}")

    def value(self, identifier: str) -> str:
        """A text field's content (Flutter puts it in the DOM only while focused)."""
        return self._settled_value(self._editor(identifier))

    def choose(self, identifier: str, option: str, *, exact: bool = True) -> None:
        """Open a drop-down and pick the option with this visible text (or, not `exact`,
        the one that starts with it)."""
        self.click(identifier)
        field = self.control(identifier).locator("input")
        if field.count():
            # Long lists are filterable: typing narrows the menu to the option.
            field.first.fill(option)
        item = self.page.get_by_role("button", name=option, exact=exact).last
        item.wait_for(state="visible", timeout=10_000)
        item.click()

    def text(self, identifier: str) -> str:
        return self.wait_for(identifier).inner_text()

    def wait_for_text(self, identifier: str, fragment: str, timeout: float = 30_000) -> str:
        locator = self.wait_for(identifier, timeout)
        try:
            self.page.wait_for_function(
                "([sel, frag]) => { const e = document.querySelector(sel);"
                " return e && e.innerText.includes(frag); }",
                arg=[f'[flt-semantics-identifier="{identifier}"]', fragment],
                timeout=timeout,
            )
        except PlaywrightTimeout as exc:
            raise AssertionError(
                f"{identifier} did not say {fragment!r} but {locator.inner_text()!r}: "
                f"{self.describe()}"
            ) from exc
        return locator.inner_text()

    def screenshot(self, name: str) -> Path:
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"{name}.png"
        self.page.wait_for_timeout(300)
        self.page.screenshot(path=str(path))
        return path
