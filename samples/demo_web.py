"""`make demo-web`: the sandbox and `bulkio serve` together, for a look at the web page.

Starts `bulkio sandbox` (3 clients, their leads, a 6,000 a minute quota so jobs take seconds)
and `bulkio serve` acting as the sandbox's user (a throwaway auth file and data directory),
runs two imports through the service's API so the page has something to show (a finished
import of samples/leads.csv with its row errors, and a small one undone: the jobs list holds
both and the undo), prints the page's address and the service token to log in with, and
serves until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from running import started, stop

SAMPLE = Path(__file__).parent / "leads.csv"
SMALL = b"email,first name,last name\nada@example.org,Ada,Lovelace\ngrace@example.org,Grace,Hopper\n"

SANDBOX = ["--port", "0", "--quota", "6000", "--clients", "3", "--leads", "3000"]


def service_token(served: dict[str, str]) -> str:
    """In serve's first line at the first start; else in the 0600 file that line names."""
    return served.get("token") or Path(served["token_file"]).read_text(encoding="ascii").strip()


async def job_done(http: aiohttp.ClientSession, url: str, job_id: str) -> dict[str, Any]:
    """Follow the job's event stream to its end."""
    async with http.get(f"{url}/jobs/{job_id}/events") as stream:
        async for line in stream.content:
            if line.startswith(b"data: ") and orjson.loads(line[6:])["ended"]:
                break
    async with http.get(f"{url}/jobs/{job_id}") as answer:
        return dict(await answer.json())


async def imported(http: aiohttp.ClientSession, url: str, name: str, body: bytes) -> str:
    form = aiohttp.FormData()
    form.add_field("file", body, filename=name, content_type="text/csv")
    async with http.post(f"{url}/leads/import/preview", data=form) as answer:
        preview = await answer.json()
    async with http.post(f"{url}/leads/import/start", json={
            "file_id": preview["file_id"], "client": "acme-corp", "on_duplicate": "skip",
            "primary_identifier": {"column": preview["auto_detected_identifiers"]
                                   ["email_columns"][0], "kind": "email"}}) as answer:
        job_id = str((await answer.json())["job_id"])
    await job_done(http, url, job_id)
    return job_id


async def something_to_show(url: str, token: str) -> str:
    """A finished import, and a small one undone; the first one's id."""
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        first = await imported(http, url, "leads.csv", SAMPLE.read_bytes())
        small = await imported(http, url, "two-leads.csv", SMALL)
        async with http.post(f"{url}/leads/import/jobs/{small}/undo",
                             json={"confirm": "acme-corp"}) as answer:
            undo = (await answer.json())["job_id"]
        await job_done(http, url, undo)
    return first


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bulkio-demo-web-") as tmp:
        sandbox, info = started(["sandbox", *SANDBOX])
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEADGENIUS_")}
        env.update(LEADGENIUS_BASE_URL=info["base_url"], LEADGENIUS_EMAIL=info["email"],
                   LEADGENIUS_PASSWORD=info["password"], LEADGENIUS_API_KEY=info["api_key"],
                   LEADGENIUS_USER_ID=info["user_id"],
                   LEADGENIUS_AUTH_FILE=str(Path(tmp) / "auth.json"))
        port = os.environ.get("PORT", "8080")
        try:
            service, served = started(["serve", "--port", port, "--data-dir",
                                       str(Path(tmp) / "service"), "--rate", "6000"], env)
        except SystemExit:
            stop(sandbox)
            raise
        token = service_token(served)
        try:
            first = asyncio.run(something_to_show(served["url"], token))
        except BaseException:
            stop(service)
            stop(sandbox)
            raise
        print(f"\nOpen {served['url']}/ and log in with the service token:\n\n    {token}\n\n"
              f"A finished import: {served['url']}/#/jobs/{first} (its row errors, its rejects, "
              f"and Undo)\nThe history, with a small import undone: {served['url']}/#/jobs\n"
              "Or upload samples/leads.csv yourself. Ctrl-C stops both.", flush=True)
        try:
            service.wait()
        except KeyboardInterrupt:
            pass
        finally:
            stop(service)
            stop(sandbox)
    return 0


if __name__ == "__main__":
    sys.exit(main())
