"""Raw HTTP calls to a `bulkio serve` under test: bearer auth, uploads, a job followed to its
end through its event stream."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import orjson

from tests.ops.imports.test_import import SAMPLES
from tests.service.conftest import Served

SAMPLE = SAMPLES / "leads.csv"


async def call(http: aiohttp.ClientSession, served: Served, method: str, path: str, *,
               json: Any = None, data: Any = None, headers: dict[str, str] | None = None,
               auth: bool = True) -> tuple[int, Any]:
    h = dict(served.bearer() if auth else {})
    h.update(headers or {})
    async with http.request(method, served.url + path, json=json, data=data, headers=h) as resp:
        raw = await resp.read()
        try:
            return resp.status, orjson.loads(raw)
        except orjson.JSONDecodeError:
            return resp.status, raw


def upload(path: Path | bytes, name: str = "leads.csv", kind: str = "text/csv") -> aiohttp.FormData:
    form = aiohttp.FormData()
    body = path.read_bytes() if isinstance(path, Path) else path
    form.add_field("file", io.BytesIO(body), filename=name, content_type=kind)
    return form


async def preview(http: aiohttp.ClientSession, served: Served, path: Path | bytes = SAMPLE,
                  **kw: Any) -> tuple[int, Any]:
    return await call(http, served, "POST", "/leads/import/preview", data=upload(path, **kw))


def start_body(file_id: str, **extra: Any) -> dict[str, Any]:
    return {"file_id": file_id, "client": "acme-corp",
            "primary_identifier": {"column": "E-mail", "kind": "email"}, **extra}


async def until_ended(http: aiohttp.ClientSession, served: Served, job_id: str,
                      path: str = "/leads/import/jobs/") -> dict[str, Any]:
    """Follow the job's events until it ends (no polling loop of our own)."""
    async with http.get(f"{served.url}/jobs/{job_id}/events", headers=served.bearer()) as resp:
        assert resp.status == 200 and resp.content_type == "text/event-stream"
        with anyio.fail_after(120):
            async for line in resp.content:
                if line.startswith(b"data: "):
                    state = orjson.loads(line[6:])
                    if state["ended"]:
                        break
    status, job = await call(http, served, "GET", f"{path}{job_id}")
    assert status == 200
    return dict(job)


