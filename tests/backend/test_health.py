from __future__ import annotations

from fastapi.testclient import TestClient

from tests.backend.conftest import AppFactory


def test_healthz_reaches_the_database_and_reports_the_queue(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "queue": {"queued": 0, "running": 0, "oldest_queued_s": 0.0},
        "workers": {"ready": 0, "inline": True},
    }


def test_healthz_says_degraded_when_jobs_wait_and_no_worker_is_ready(
    make_client: AppFactory,
) -> None:
    from backend_stub import jobs
    from tests.backend.factories import make_candidate
    from tests.backend.test_jobs import candidate_id

    client = make_client(VERIFY_WORKERS=1)  # the queue, with no worker running
    candidate = make_candidate(client)
    state = client.app.state  # type: ignore[attr-defined]
    with state.db.sessionmaker() as session:
        jobs.submit(
            session,
            state.settings,
            state.media,
            candidate_id(client, candidate["id_number"]),
            "photo-check",
            {},
        )
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["queue"]["queued"] == 1 and body["workers"] == {"ready": 0, "inline": False}


def test_openapi_lists_the_account_routes(make_client: AppFactory) -> None:
    paths = make_client(API_DOCS=True).get("/openapi.json").json()["paths"]
    for path in (
        "/api/accounts/new",
        "/api/accounts/enrolled",
        "/api/auth/login",
        "/api/auth/logout",
        "/api/auth/password-reset",
        "/api/me",
        "/api/sms/codes",
    ):
        assert path in paths


def test_unknown_route_is_a_chinese_404(client: TestClient) -> None:
    response = client.get("/api/nope")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "不存在" in response.json()["message"]


def test_reference_lists_the_form_choices(client: TestClient) -> None:
    body = client.get("/api/reference").json()
    assert {"key": "6501", "text": "乌鲁木齐市"} in body["exam_districts"]
    assert "维吾尔族" in body["ethnicities"]
    assert body["hukou_types"] == ["城镇", "农村"]
