"""A TCP proxy on loopback whose connections can be cut at once: what a phone's app sees
when it loses signal, locks the screen or a carrier's proxy resets its sockets."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.postgres import free_port


class CuttableProxy:
    """Forwards 127.0.0.1:`port` to 127.0.0.1:`target`; `cut()` resets every open
    connection (new ones are accepted again straight away)."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = free_port()
        self.cuts = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cuttable-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> asyncio.Server:
            return await asyncio.start_server(self._serve, "127.0.0.1", self.port)

        self._server = self._loop.run_until_complete(start())
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        self._writers -= {writer, up_writer}

    def cut(self) -> None:
        """Reset every connection through the proxy, as a dropped network does."""

        def reset() -> None:
            for writer in list(self._writers):
                transport = writer.transport
                transport.abort()
            self._writers.clear()

        self._loop.call_soon_threadsafe(reset)
        self.cuts += 1

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        async def shutdown() -> None:
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


@contextmanager
def cuttable(target: int) -> Iterator[CuttableProxy]:
    proxy = CuttableProxy(target)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
