"""The camera block the capture screens share: a preview with an aiming guide, a shutter
button, and a file picker for a desktop (or a phone) without a usable camera."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import flet as ft

from mobile.views.common import primary_button, semantic, set_busy

OnFile = Callable[[bytes], Awaitable[None]]


def guide_frame(width: float, height: float, *, radius: float) -> ft.Control:
    """A white outline to aim at, centred on the preview."""
    return ft.Container(
        ft.Container(
            width=width,
            height=height,
            border=ft.Border.all(3, ft.Colors.WHITE),
            border_radius=radius,
        ),
        alignment=ft.Alignment.CENTER,
    )


class CameraPanel:
    """Preview + shutter + picker. `on_file` receives the bytes of a picked file; the
    screen sets the shutter's handler itself (a photo, or a video start/stop)."""

    def __init__(
        self,
        *,
        ids: tuple[str, str, str],  # preview, shutter, picker
        shutter_label: str,
        pick_label: str,
        guide: ft.Control,
        hint: str,
        front: bool,
        on_file: OnFile,
        no_camera: str,
        file_type: ft.FilePickerFileType = ft.FilePickerFileType.IMAGE,
        audio: bool = False,
        height: float = 280,
    ) -> None:
        """`audio`: the screen records videos. The camera is asked for 480p then: the
        server analyses videos at 480 px, and a phone's 1080p clip is 5× the upload and 4×
        the decoding (measured). Stills stay at 1080p (the card's text, the photo's detail)."""
        import flet_camera as fc

        self._fc = fc
        self._front = front
        self._audio = audio
        self._resolution = fc.ResolutionPreset.MEDIUM if audio else fc.ResolutionPreset.VERY_HIGH
        self.ready = False
        self._lens: Any = None
        self.camera = fc.Camera(expand=True, preview_enabled=True)
        self.preview = semantic(
            ids[0],
            ft.Container(
                ft.Stack(
                    [
                        self.camera,
                        guide,
                        ft.Container(
                            ft.Text(hint, color=ft.Colors.WHITE, size=14),
                            alignment=ft.Alignment.BOTTOM_CENTER,
                            padding=8,
                        ),
                    ],
                    expand=True,
                ),
                height=height,
                bgcolor=ft.Colors.BLACK,
                border_radius=12,
                clip_behavior=ft.ClipBehavior.HARD_EDGE,
            ),
        )
        self.note = ft.Text(no_camera, size=14, color=ft.Colors.BLUE_GREY_700, visible=False)
        self.shutter = primary_button(ids[1], shutter_label, lambda: None)

        async def picked(e: ft.FilePickerResultEvent) -> None:
            if e.files and e.files[0].bytes:
                await on_file(e.files[0].bytes)

        self.picker = ft.FilePicker(on_result=picked)
        self.pick = semantic(
            ids[2],
            ft.OutlinedButton(
                content=ft.Text(pick_label, size=16),
                height=48,
                action=ft.PickFiles(self.picker, file_type=file_type, with_data=True),
            ),
        )

    def on_shutter(self, handler: Callable[[Any], Awaitable[None]]) -> None:
        assert isinstance(self.shutter, ft.Semantics)
        assert isinstance(self.shutter.content, ft.FilledButton)
        self.shutter.content.on_click = handler

    def shoot_photos(self, on_photo: OnFile, on_error: Callable[[], None]) -> None:
        """Make the shutter take a still and hand it to `on_photo` (`on_error` if the
        camera fails); the button is disabled while the camera works."""

        async def shoot(_e: Any = None) -> None:
            set_busy(self.shutter, True)
            try:
                data = await self.take_picture()
            except Exception:  # The camera plugin reports failures as plain errors.
                on_error()
                return
            finally:
                set_busy(self.shutter, False)
            await on_photo(data)

        self.on_shutter(shoot)

    @property
    def controls(self) -> list[ft.Control]:
        return [self.preview, self.note, self.shutter, self.pick]

    async def open(self) -> bool:
        """Start the preview (call once the controls are on the page). Without a camera,
        hide the preview and the shutter and say to pick a file instead."""
        fc = self._fc
        wanted = fc.CameraLensDirection.FRONT if self._front else fc.CameraLensDirection.BACK
        try:
            cameras = await self.camera.get_available_cameras()
            chosen = next((c for c in cameras if c.lens_direction == wanted), None)
            chosen = chosen or (cameras[0] if cameras else None)
            if chosen is None:
                raise RuntimeError("no camera")
            await self.camera.initialize(chosen, self._resolution, enable_audio=self._audio)
        except Exception:  # The plugin reports a missing or refused camera as plain errors.
            self.ready = False
            self.note.visible = True
            self.shutter.visible = False
            self.preview.visible = False
            for control in (self.note, self.shutter, self.preview):
                try:
                    control.update()
                except RuntimeError:  # not on the page (yet): shown as set when it is
                    pass
            return False
        self.ready = True
        self._lens = chosen.lens_direction
        if not self._front and self.camera.page.web and self._lens != fc.CameraLensDirection.BACK:
            # The web plugin mirrors the preview of any camera but a back one: right for a
            # selfie, wrong for a card whose text must read the right way round.
            self.camera.scale = ft.Scale(scale_x=-1, scale_y=1)
            self.camera.update()
        return True

    async def take_picture(self) -> bytes:
        """A still from the preview, the right way round. The web camera plugin mirrors
        stills from every camera but a back one (like the preview); offices refuse
        mirrored photos, and a mirrored card costs the reader a second pass."""
        data = await self.camera.take_picture()
        if self.camera.page.web and self._lens != self._fc.CameraLensDirection.BACK:
            data = unmirror(data)
        return data


def unmirror(data: bytes) -> bytes:
    """Flip an image left-right, as a high-quality JPEG (Pillow only: this runs on phones)."""
    import io

    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as image:
        flipped = ImageOps.mirror(ImageOps.exif_transpose(image).convert("RGB"))
    out = io.BytesIO()
    flipped.save(out, "JPEG", quality=95)
    return out.getvalue()
