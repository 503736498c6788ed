"""Building blocks shared by the screens: fields bound to form state, banners, steps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import flet as ft

from mobile import ids
from mobile.services.api import ApiError

T = TypeVar("T")

PRIMARY = ft.Colors.BLUE_800
ERROR = ft.Colors.RED_700
# Field errors at a readable size (the framework draws them at 12 px).
ERROR_STYLE = ft.TextStyle(size=13)
TOUCH_HEIGHT = 52

Handler = Callable[..., Awaitable[None]] | Callable[..., None]
# Goes to another route (the router builds the screen).
Navigate = Callable[[str], Awaitable[None]]


def go(navigate: Navigate, route: str) -> Callable[..., Awaitable[None]]:
    """A click handler that navigates to `route`."""

    async def handler(*_args: Any) -> None:
        await navigate(route)

    return handler


def scroll_key(field: str) -> str:
    """The scroll key of a form field's row (View.scroll_to finds it)."""
    return f"form-field-{field}"


def _scroll(field: str) -> ft.ScrollKey:
    # Flet builds its key classes with a decorator mypy cannot see through.
    return ft.ScrollKey(scroll_key(field))  # type: ignore[call-arg]


def semantic(identifier: str, control: ft.Control, **kwargs: Any) -> ft.Semantics:
    """Wrap a control so tests and screen readers find it by `identifier`."""
    return ft.Semantics(identifier=identifier, content=control, **kwargs)


class Form:
    """Binds text fields and choices to a form dataclass and shows its errors."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.controls: dict[str, ft.TextField | ft.Dropdown | ft.RadioGroup] = {}

    def text(
        self,
        key: str,
        identifier: str,
        label: str,
        *,
        password: bool = False,
        keyboard: ft.KeyboardType = ft.KeyboardType.TEXT,
        max_length: int | None = None,
        hint: str | None = None,
    ) -> ft.Control:
        def on_change(e: ft.Event[ft.TextField]) -> None:
            setattr(self.data, key, e.control.value or "")
            if e.control.error:
                e.control.error = None
                e.control.update()

        field = ft.TextField(
            label=label,
            value=getattr(self.data, key),
            password=password,
            can_reveal_password=password,
            keyboard_type=keyboard,
            max_length=max_length,
            hint_text=hint,
            on_change=on_change,
            autocorrect=False,
            enable_suggestions=False,
            text_size=17,
            counter="" if max_length else None,
            error_style=ERROR_STYLE,
        )
        self.controls[key] = field
        return semantic(identifier, field, key=_scroll(key))

    def choice(
        self, key: str, identifier: str, label: str, options: Sequence[tuple[str, str]]
    ) -> ft.Control:
        """A drop-down list; options are (key, text) pairs."""

        def on_select(e: ft.Event[ft.Dropdown]) -> None:
            setattr(self.data, key, e.control.value or "")
            if e.control.error_text:
                e.control.error_text = None
                e.control.update()

        dropdown = ft.Dropdown(
            label=label,
            value=getattr(self.data, key) or None,
            options=[ft.DropdownOption(key=k, text=t) for k, t in options],
            on_select=on_select,
            expand=True,
            enable_filter=len(options) > 12,
            editable=len(options) > 12,
            menu_height=360,
            text_size=17,
            error_style=ERROR_STYLE,
        )
        self.controls[key] = dropdown
        return semantic(identifier, dropdown, key=_scroll(key))

    def radio(self, key: str, identifier: str, label: str, options: Sequence[str]) -> ft.Control:
        def on_change(e: ft.Event[ft.RadioGroup]) -> None:
            setattr(self.data, key, e.control.value or "")

        group = ft.RadioGroup(
            value=getattr(self.data, key) or None,
            on_change=on_change,
            content=ft.Row(
                [
                    semantic(f"{identifier}-{i}", ft.Radio(value=o, label=o))
                    for i, o in enumerate(options)
                ]
            ),
        )
        self.controls[key] = group
        return semantic(identifier, ft.Column([ft.Text(label, size=14), group], spacing=2))

    async def submit(
        self, error: Banner, button: ft.Control, call: Callable[[], Awaitable[T]]
    ) -> T | None:
        """Check the form on the phone, then run `call` with the button disabled.

        Problems land in `error` (and on the fields); returns None when anything failed.
        """
        error.clear()
        errors = self.data.errors()
        self.show_errors(errors)
        if errors:
            error.show(summary(errors))
            await self.scroll_to_first(errors)
            return None
        set_busy(button, True)
        try:
            return await call()
        except ApiError as exc:
            error.show(exc.message)
            # The server's refusal lands on its field too, with its words, and the form
            # scrolls there: a banner at the bottom of a long form is easily missed.
            marked = {f: exc.message for f in exc.fields if f in self.controls}
            self.show_errors(marked)
            await self.scroll_to_first(marked)
            return None
        finally:
            set_busy(button, False)

    async def scroll_to_first(self, errors: dict[str, str]) -> None:
        """Bring the first field with a problem (in the form's order) into view."""
        first = next((key for key in self.controls if key in errors), None)
        if first is None:
            return
        try:
            page = self.controls[first].page
        except RuntimeError:  # not on a page (a test building the form alone)
            return
        if page is None or not page.views:
            return
        await page.views[-1].scroll_to(scroll_key=scroll_key(first), duration=300)

    def show_errors(self, errors: dict[str, str]) -> None:
        for key, control in self.controls.items():
            if isinstance(control, ft.TextField):
                control.error = errors.get(key)
            elif isinstance(control, ft.Dropdown):
                control.error_text = errors.get(key)
            else:
                continue
            control.update()


class Banner:
    """A message area on a form (errors in red, notices in green); hidden while empty."""

    def __init__(self, identifier: str, *, error: bool = True, message: str = "") -> None:
        self.text = ft.Text(message, size=15)
        self.box = ft.Container(content=self.text, border_radius=8, padding=12)
        self.tone(error)
        # The Semantics wrapper itself is hidden: Flutter wants its content visible.
        self.control = semantic(identifier, self.box, live_region=True, visible=bool(message))

    def tone(self, error: bool) -> None:
        """Red for a problem, green for good news (applied by the next `show`)."""
        self.text.color = ERROR if error else ft.Colors.GREEN_800
        self.box.bgcolor = ft.Colors.RED_50 if error else ft.Colors.GREEN_50

    def show(self, message: str) -> None:
        self.text.value = message
        self.control.visible = bool(message)
        self.control.update()

    def clear(self) -> None:
        self.show("")


def summary(errors: dict[str, str]) -> str:
    """One line for the banner: the first problem, and how many there are."""
    first = next(iter(errors.values()))
    return first if len(errors) == 1 else f"{first}(共{len(errors)}处需要修改)"


def primary_button(identifier: str, text: str, on_click: Handler) -> ft.Control:
    button = ft.FilledButton(
        content=ft.Text(text, size=17, weight=ft.FontWeight.BOLD),
        on_click=on_click,
        height=TOUCH_HEIGHT,
        style=ft.ButtonStyle(shape=ft.RoundedRectangleBorder(radius=10), bgcolor=PRIMARY),
    )
    return semantic(identifier, button)


def link_button(identifier: str, text: str, on_click: Handler) -> ft.Control:
    button = ft.TextButton(content=ft.Text(text, size=15), on_click=on_click, height=44)
    return semantic(identifier, button)


def button_label(control: ft.Control) -> ft.Text:
    """The text inside a button made by `primary_button` or `link_button`."""
    button = control.content if isinstance(control, ft.Semantics) else control
    label = getattr(button, "content", None)
    assert isinstance(label, ft.Text), "not a button made here"
    return label


def set_busy(control: ft.Control, busy: bool) -> None:
    """Disable a (Semantics-wrapped) button while its request runs."""
    inner = control.content if isinstance(control, ft.Semantics) else control
    if inner is not None:
        inner.disabled = busy
        inner.update()


def upload_feedback(
    progress: ft.ProgressBar, text: ft.Text, working: str
) -> tuple[Callable[[float], Awaitable[None]], Callable[[str], Awaitable[None]]]:
    """An upload's two reports for one progress bar: the share sent (then `working`),
    and, while the server works on it, where its job stands (the bar runs indefinitely)."""

    async def sent(share: float) -> None:
        progress.value = share * 0.9
        text.value = f"正在上传… {round(share * 100)}%" if share < 1 else working
        progress.update()
        text.update()

    async def status(words: str) -> None:
        progress.value = None
        text.value = words
        progress.update()
        text.update()

    return sent, status


def step_indicator(current: int, total: int, title: str) -> ft.Control:
    """ "第1步/共8步" with a progress bar: where this screen sits in the journey."""
    return semantic(
        ids.STEP_INDICATOR,
        ft.Column(
            [
                ft.Text(
                    f"第{current}步 / 共{total}步：{title}", size=14, color=ft.Colors.BLUE_GREY_700
                ),
                ft.ProgressBar(
                    value=current / total, color=PRIMARY, bgcolor=ft.Colors.BLUE_GREY_100
                ),
            ],
            spacing=6,
        ),
    )


def screen(route: str, title: str, body: list[ft.Control], *, back: bool = True) -> ft.View:
    """A full-height mobile screen with an app bar and a scrolling body."""
    return ft.View(
        route=route,
        appbar=ft.AppBar(
            title=ft.Text(title, size=19, weight=ft.FontWeight.BOLD),
            center_title=True,
            automatically_imply_leading=back,
            bgcolor=PRIMARY,
            color=ft.Colors.WHITE,
        ),
        controls=[
            ft.Column(
                body,
                spacing=14,
                horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
            )
        ],
        scroll=ft.ScrollMode.AUTO,
        padding=ft.Padding.symmetric(horizontal=18, vertical=16),
    )


def section(title: str) -> ft.Control:
    return ft.Text(title, size=16, weight=ft.FontWeight.BOLD, color=PRIMARY)
