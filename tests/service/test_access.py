"""`bulkio serve`'s access control and the requests that change nothing a neighbour depends
on (previews, refusals, the page's session, the live payload): one service and one sandbox for
the module, as starting a service for each would cost a second apiece."""

from __future__ import annotations

import stat
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
import pytest_asyncio

from bulkio.sandbox import Sandbox, SandboxConfig, run_sandbox
from tests.service.calls import call, preview, start_body, until_ended
from tests.service.conftest import Served, start_service, stop_service

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_sandbox() -> AsyncIterator[Sandbox]:
    async with run_sandbox(SandboxConfig(quota_per_minute=None, clients=1,
                                         latency_ms=(1, 5))) as sb:
        yield sb


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def service(shared_sandbox: Sandbox,
                  tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Served]:
    served = await start_service(shared_sandbox, tmp_path_factory.mktemp("service"))
    try:
        yield served
    finally:
        await stop_service(served)


@pytest_asyncio.fixture(loop_scope="module")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_no_token_or_a_wrong_one_is_401_and_nothing_else(
        service: Served, http: aiohttp.ClientSession) -> None:
    for method, path in (("GET", "/leads/import/jobs"), ("POST", "/leads/import/preview"),
                         ("POST", "/leads/import/start"), ("GET", "/jobs/job_x/events"),
                         ("POST", "/exports"), ("POST", "/purges"), ("GET", "/clients")):
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": service.token}):
            status, body = await call(http, service, method, path, headers=headers, auth=False)
            assert (status, body) == (401, {"error": "unauthorized", "status": 401}), path
    status, _ = await call(http, service, "GET", "/leads/import/jobs")
    assert status == 200


async def test_preview_describes_the_file(service: Served, http: aiohttp.ClientSession) -> None:
    status, body = await preview(http, service)
    assert status == 200
    assert body["file_id"].startswith("preview_") and body["file_name"] == "leads.csv"
    assert body["headers"][:3] == ["First Name", "Last Name", "E-mail"]
    assert len(body["sample_rows"]) == 5 and body["sample_rows"][0][2] == "linda.white.0@cyberdyne.ai"
    assert body["row_count"] == 2000
    assert body["auto_detected_identifiers"] == {"email_columns": ["E-mail"],
                                                 "phone_columns": ["Phone 1"]}
    assert body["suggested_mappings"]["First Name"] == "firstName"
    assert body["expires_at"].endswith("Z")


@pytest.mark.parametrize(("content", "name", "kind", "status", "said"), [
    (b"PK\x03\x04" + b"\x00" * 200, "leads.csv", "text/csv", 400, ""),  # a workbook named .csv
    (b"", "leads.csv", "text/csv", 400, "leads.csv is empty"),
    (b"email\nada@acme.com\n", "photo.png", "image/png", 415, "photo.png is not a CSV file"),
    (b"email\nada@acme.com\n", "leads.json", "application/json", 415, "leads.json is a JSON file"),
    (b"%PDF-1.7", "leads.pdf", "application/pdf", 415, "leads.pdf is a PDF: save it as CSV"),
])
async def test_preview_refuses_what_is_not_a_csv(service: Served, http: aiohttp.ClientSession,
                                                 content: bytes, name: str, kind: str,
                                                 status: int, said: str) -> None:
    kept = set((service.data_dir / "uploads").glob("*"))
    got, body = await preview(http, service, content, name=name, kind=kind)
    assert got == status and body["error"].startswith(said) and "application/" not in body["error"]
    assert set((service.data_dir / "uploads").glob("*")) == kept  # nothing of it kept


async def test_preview_without_a_file_is_400(service: Served, http: aiohttp.ClientSession) -> None:
    form = aiohttp.FormData()
    form.add_field("other", b"x", filename="x.csv", content_type="text/csv")
    status, body = await call(http, service, "POST", "/leads/import/preview", data=form)
    assert status == 400 and "file" in body["error"]


async def test_start_refuses_what_it_cannot_do(service: Served, http: aiohttp.ClientSession) -> None:
    _, body = await preview(http, service)
    file_id = body["file_id"]
    cases = [
        (start_body(file_id, primary_identifier={"column": "Phone 1", "kind": "phone"}), 400,
         "email"),
        (start_body(file_id, primary_identifier={"column": "Nope", "kind": "email"}), 400, "Nope"),
        (start_body(file_id, primary_identifier={"column": "E-mail"}), 400, "kind"),
        (start_body(file_id, field_mappings={"Missing": "title"}), 400, "Missing"),
        (start_body(file_id, client="no-such-client"), 400, "no-such-client"),
        (start_body("preview_gone"), 404, "expired"),
    ]
    for body_, status, words in cases:
        got, answer = await call(http, service, "POST", "/leads/import/start", json=body_)
        assert got == status and words in answer["error"], (body_, answer)


async def test_the_page_session_needs_its_csrf_token(service: Served) -> None:
    """A session cookie alone can read, not change: a state-changing call without the CSRF
    token is 403; the cookie is HttpOnly and SameSite=Strict."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        await session_checks(service, http)


async def session_checks(service: Served, http: aiohttp.ClientSession) -> None:
    async with http.post(service.url + "/login", json={"token": "wrong"}) as resp:
        assert resp.status == 401
    async with http.post(service.url + "/login", json={"token": service.token}) as resp:
        assert resp.status == 200
        csrf = (await resp.json())["csrf"]
        cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    async with http.get(service.url + "/clients") as resp:
        assert resp.status == 200
    async with http.post(service.url + "/clients", json={"name": "From The Page"}) as resp:
        assert resp.status == 403
    async with http.post(service.url + "/clients", json={"name": "From The Page"},
                         headers={"X-CSRF-Token": csrf}) as resp:
        assert resp.status == 201 and (await resp.json())["client"]["slug"] == "from-the-page"
    async with http.get(service.url + "/") as resp:
        page = await resp.text()
    assert resp.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "<script src=\"/static/app.js\"" in page and "http" not in page.split("<body>")[1]


async def test_serve_refuses_a_public_address_and_prints_its_token(service: Served) -> None:
    base = [sys.executable, "-m", "bulkio", "serve", "--data-dir", str(service.data_dir)]
    with anyio.fail_after(60):
        public = await anyio.run_process([*base, "--host", "0.0.0.0"], check=False)
        token = await anyio.run_process([*base, "--print-token"], check=False)
    lines = public.stderr.decode().strip().splitlines()
    assert public.returncode == 2 and len(lines) == 1 and "--public" in lines[0]
    assert token.returncode == 0 and token.stdout.decode().strip() == service.token


async def test_the_live_payload_and_logging_out(service: Served) -> None:
    """/leads/import/sample builds the first rows' payloads by the import's own rules; after
    /logout the session is gone."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        _, body = await preview(http, service)
        status, sample = await call(http, service, "POST", "/leads/import/sample", json=start_body(
            body["file_id"], field_mappings={"First Name": "first_name", "Website": "website"}))
        assert status == 200 and len(sample["payloads"]) == 3
        first = sample["payloads"][0]["payload"]
        assert first == {"client_id": "acme-corp", "firstName": "Linda", "lastName": "White",
                         "email": "linda.white.0@cyberdyne.ai",
                         "companyUrl": "https://www.cyberdyne.ai",
                         "companyDomain": "cyberdyne.ai"}  # derived, as an import does
        async with http.post(service.url + "/login", json={"token": service.token}) as resp:
            csrf = (await resp.json())["csrf"]
        async with http.get(service.url + "/session") as resp:
            assert (await resp.json())["logged_in"] is True
        async with http.post(service.url + "/logout", headers={"X-CSRF-Token": csrf}) as resp:
            assert resp.status == 200
        async with http.get(service.url + "/clients") as resp:
            assert resp.status == 401


async def test_forty_previews_at_once_each_get_their_own_mapping(service: Served) -> None:
    """The live payload under two mappings that swap first and last name, 40 requests at
    once: every answer is its own request's (the mapping once went through one shared file
    beside the upload: wrong answers, and 502s naming a server path)."""
    async with aiohttp.ClientSession() as http:
        _, body = await preview(http, service)
        swapped = [{"First Name": "first_name", "Last Name": "last_name"},
                   {"First Name": "last_name", "Last Name": "first_name"}]

        async def ask(i: int) -> tuple[int, int, Any]:
            status, sample = await call(http, service, "POST", "/leads/import/sample",
                                        json=start_body(body["file_id"],
                                                        field_mappings=swapped[i % 2]))
            return i, status, sample

        answers: list[tuple[int, int, Any]] = []

        async def collect(i: int) -> None:
            answers.append(await ask(i))

        async with anyio.create_task_group() as tasks:
            for i in range(40):
                tasks.start_soon(collect, i)
    assert len(answers) == 40
    for i, status, sample in answers:
        assert status == 200, sample
        first = sample["payloads"][0]["payload"]
        want = ("Linda", "White") if i % 2 == 0 else ("White", "Linda")
        assert (first["firstName"], first["lastName"]) == want


async def test_no_server_path_in_a_failed_jobs_message(service: Served) -> None:
    """A job whose file turns out unreadable fails saying so, naming the file, never the
    data directory's path."""
    async with aiohttp.ClientSession() as http:
        _, body = await preview(http, service)
        for upload in (service.data_dir / "uploads").iterdir():  # the kept file goes bad
            upload.write_bytes(bytes(range(256)) * 64)
        _, started = await call(http, service, "POST", "/leads/import/start",
                                json=start_body(body["file_id"]))
        job = await until_ended(http, service, started["job_id"])
    assert job["status"] == "failed" and "input.csv" in job["message"]
    assert str(service.data_dir.resolve()) not in job["message"], job["message"]
    assert "/jobs/" not in job["message"], job["message"]



async def test_the_token_is_printed_at_the_first_start_only(shared_sandbox: Sandbox,
                                                            tmp_path: Path) -> None:
    """Under systemd or docker stdout is a journal: the token goes there once, when it is made;
    later starts name the 0600 file that holds it."""
    first = await start_service(shared_sandbox, tmp_path)
    await stop_service(first)
    again = await start_service(shared_sandbox, tmp_path, data_dir=first.data_dir)
    try:
        assert set(first.announced) == {"url", "token"}
        assert set(again.announced) == {"url", "token_file"}
        held = Path(again.announced["token_file"])
        assert held.is_absolute() and held.parent == first.data_dir.absolute()
        assert stat.S_IMODE(held.stat().st_mode) == 0o600
        assert again.token == first.token and first.token not in str(again.announced)
        async with aiohttp.ClientSession() as http, \
                http.get(again.url + "/clients", headers=again.bearer()) as resp:
            assert resp.status == 200
    finally:
        await stop_service(again)
