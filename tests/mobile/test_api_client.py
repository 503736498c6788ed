"""The app's API client against the real backend app (in process, real database)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from backend_stub.app import create_app
from backend_stub.config import Settings
from mobile.services.api import ApiClient, ApiError
from tests.backend.factories import new_student


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def api(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    app = create_app(Settings(DATABASE_URL=database_url, DATA_DIR=tmp_path))
    client = ApiClient("http://backend", transport=httpx.ASGITransport(app=app))
    yield client
    app.state.db.engine.dispose()


async def sandbox_code(api: ApiClient, phone: str) -> str:
    response = await api._client.post("/api/sandbox/sms/latest", json={"phone": phone})
    return response.json()["code"]


@pytest.mark.anyio
async def test_register_then_read_me_then_logout(api: ApiClient) -> None:
    body = new_student()
    await api.send_sms_code(body["phone"], "register")
    body["sms_code"] = await sandbox_code(api, body["phone"])
    session = await api.register_new(body)
    assert api.token == session.token
    me = await api.me()
    assert me.name == body["name"]
    assert me.masked_id_number == body["id_number"][:6] + "*" * 8 + body["id_number"][-4:]
    assert me.journey[0].status == "done"
    await api.logout()
    assert api.token is None
    with pytest.raises(ApiError) as caught:
        await api.me()
    assert caught.value.status == 401
    assert caught.value.message == "请先登录。"


@pytest.mark.anyio
async def test_refusals_arrive_as_code_and_chinese_message(api: ApiClient) -> None:
    with pytest.raises(ApiError) as caught:
        await api.login("11010519491231002X", "whatever")
    assert caught.value.code == "login_failed"
    # The same words as for an existing account: nothing tells whether it exists.
    assert caught.value.message == "账号或密码错误，还可尝试4次。"


@pytest.mark.anyio
async def test_no_backend_is_a_network_error_in_chinese() -> None:
    api = ApiClient("http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(ApiError) as caught:
        await api.reference()
    assert caught.value.code == "network_error"
    assert "无法连接服务器" in caught.value.message
    await api.aclose()


@pytest.mark.anyio
async def test_idle_connections_are_let_go_before_the_server_closes_them() -> None:
    """A request on a connection the server is closing fails as a network error (seen with
    both sides at uvicorn's and httpx's 5 s): the app must give up first."""
    from backend_stub.__main__ import KEEP_ALIVE_S

    api = ApiClient("http://127.0.0.1:9")
    pool = api._client._transport._pool  # type: ignore[attr-defined]
    assert pool._keepalive_expiry <= KEEP_ALIVE_S / 2
    await api.aclose()


@pytest.mark.anyio
async def test_an_upload_waits_for_its_job_and_tells_where_it_stands(
    database_url: str, tmp_path: Path
) -> None:
    from tests.backend.factories import card_photo

    app = create_app(Settings(DATABASE_URL=database_url, DATA_DIR=tmp_path, VERIFY_WORKERS=0))
    client = ApiClient("http://backend", transport=httpx.ASGITransport(app=app))
    try:
        body = new_student(name="王建国")
        await client.send_sms_code(body["phone"], "register")
        body["sms_code"] = await sandbox_code(client, body["phone"])
        await client.register_new(body)
        said: list[str] = []

        async def on_status(text: str) -> None:
            said.append(text)

        front = card_photo(name="王建国", id_number=body["id_number"])
        reading = await client.upload_idcard(front, on_status=on_status)
        assert reading.fields["name"] == "王建国"
        assert said and all(t.startswith(("排队中", "正在识别")) for t in said)
        with pytest.raises(ApiError) as caught:
            await client.upload_idcard(b"\xff\xd8\xff not a photo")
        assert caught.value.status == 422 and caught.value.code and caught.value.message
    finally:
        await client.aclose()
        app.state.inline_jobs.shutdown(wait=True)
        app.state.db.engine.dispose()
