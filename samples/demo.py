"""`make demo`: a rehearsal against the embedded sandbox, end to end.

Starts `bulkio sandbox` as its own process (3 clients, 6,000 leads), logs in with a throwaway
auth file (your ~/.leadgenius_auth.json is never touched), shows the sandbox answering (who
you are, the clients with their slugs and UUIDs, two of the API's traps), imports
samples/leads.csv (2,000 messy rows) into a new client and prints the summary, scores its
CTOs with SDR AI (message2 has no agent: skipped, and said), sends the client's leads through
an enrichment campaign of the legacy API and brings them back (each record once), exports the
whole tenant (both kinds of lead) to ./out/ with a manifest beside each file, and ends by
purging the imported client (50 leads a request) and deleting its record.

The sandbox's quota is set to 6,000 requests a minute so the demo takes seconds; against
production, bulkio paces at your tier (--tier standard|premium).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp
import orjson
from running import banner, bulkio, started, stop

SANDBOX = ["--port", "0", "--quota", "6000", "--clients", "3", "--leads", "6000",
           "--source-leads", "1500", "--processing-settings", "--run-seconds", "1-4",
           "--legacy-campaigns", "--legacy-rate", "600", "--legacy-enrich-seconds", "1-3"]
OUT = Path("out")
SAMPLE = Path(__file__).parent / "leads.csv"


async def show_traps(info: dict[str, str], slug: str) -> None:
    """Two quirks, called raw (bulkio itself never makes these calls)."""
    headers = {"Authorization": f"Bearer {info['token']}"}
    url = info["base_url"] + "/api/leads"
    lead = {"client_id": slug, "firstName": "Grace", "lastName": "Hopper"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async def count() -> int:
            async with session.get(url, params={"client_id": slug, "limit": 1000}) as r:
                return len((await r.json())["leads"])

        before = await count()
        batch = {"leads": [{**lead, "email": f"grace{i}@navy.mil"} for i in range(3)]}
        async with session.post(url, json=batch) as r:
            answer = await r.json()
        print(f"batch POST of 3 leads -> HTTP {r.status}, created={answer['created']}; "
              f"leads stored: {await count() - before}   (the batch POST bug)")
        async with session.post(url, json={**lead, "email": "g@navy.mil", "phone": "+1 555"}) as r:
            answer = await r.json()
        print(f"single POST with 'phone' -> HTTP {r.status}: {answer['error']!r}   "
              "(the field is phoneNumber)")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bulkio-demo-") as tmp:
        banner("Starting the sandbox: a local twin of the LeadGenius Pro API")
        proc, info = started(["sandbox", *SANDBOX])
        try:
            print(f"listening on {info['base_url']} as {info['email']}")
            env = {**os.environ, "LEADGENIUS_AUTH_FILE": str(Path(tmp) / "auth.json"),
                   "LEADGENIUS_PASSWORD": info["password"], "LEADGENIUS_API_KEY": info["api_key"]}
            env = {k: v for k, v in env.items() if k != "LEADGENIUS_TOKEN"}
            env.update(LEADGENIUS_LEGACY_AUTH_FILE=str(Path(tmp) / "legacy-auth.json"),
                       BULKIO_STATE_DIR=str(Path(tmp) / "state"))

            banner("Log in (tokens saved with mode 0600; the password is never saved)")
            bulkio(env, "auth", "login", "--base-url", info["base_url"], "--email", info["email"],
                   "--api-key")
            env.pop("LEADGENIUS_PASSWORD")
            env.pop("LEADGENIUS_API_KEY")

            banner("Who am I? (secrets are never shown)")
            bulkio(env, "auth", "status")

            banner("Clients: the slug files leads, the UUID is only for the client record")
            bulkio(env, "clients", "--counts", "--rate", "6000")

            banner("Two traps of the real API, reproduced by the sandbox")
            clients = subprocess.run([sys.executable, "-m", "bulkio", "clients", "--json"],
                                     env=env, capture_output=True, text=True, check=True)
            slug = orjson.loads(clients.stdout.splitlines()[0])["client_id"]
            asyncio.run(show_traps(info, slug))

            banner("Import samples/leads.csv: 2,000 messy rows (what every row became is in "
                   "the report and the rejects file)")
            jobs = Path(tmp) / "jobs"
            result = subprocess.run([sys.executable, "-m", "bulkio", "import", str(SAMPLE),
                                     "--create-client", "Imported Leads", "--rate", "6000",
                                     "--job-dir", str(jobs)], env=env, check=False)
            print(f"(exit code {result.returncode}: 1 means some rows were rejected, as this "
                  "sample's invalid rows are)")
            rejects = jobs / "rejects.csv"
            if rejects.exists():
                banner("The first rejected rows, with the reason")
                for line in rejects.read_text(encoding="utf-8").splitlines()[:6]:
                    print(line[:120])

            banner("The client now")
            bulkio(env, "clients", "--counts", "--rate", "6000")

            banner("Score the imported CTOs with SDR AI: each lead triggered once, every run "
                   "tracked to its end")
            bulkio(env, "process", "sdr", "--client", "imported-leads", "--fields",
                   "aiLeadScore,aiQualification,message2", "--where", "title=CTO", "--wait",
                   "--rate", "6000", "--job-dir", str(Path(tmp) / "process-job"))

            banner("Enrich the client through a campaign of the legacy enrichment API (its own "
                   "key and quota): out, then back into the client, each record once")
            bulkio({**env, "LEADGENIUS_LEGACY_API_KEY": info["legacy_api_key"]}, "auth", "login",
                   "--legacy", "--legacy-base-url", info["base_url"])
            bulkio(env, "campaign", "upload", "client:imported-leads", "--campaign",
                   "demo-enrichment", "--type", "enrichment", "--legacy-rate", "600",
                   "--settle", "5", "--rate", "6000", "--job-dir", str(Path(tmp) / "upload-job"))
            bulkio(env, "campaign", "download", "demo-enrichment", "--into-client",
                   "imported-leads", "--wait", "--legacy-rate", "600", "--rate", "6000",
                   "--job-dir", str(Path(tmp) / "round-trip-job"))

            banner("Export the tenant to ./out/: a cursor per client at once, 5,000 a page")
            bulkio(env, "export", "--out", f"{OUT}/", "--kind", "all", "--rate", "6000",
                   "--job-dir", str(Path(tmp) / "export-job"), "--force")
            manifest = orjson.loads((OUT / "enrich-leads.ndjson.manifest.json").read_bytes())
            print(f"{OUT / 'enrich-leads.ndjson'}: {manifest['records']:,} records, "
                  f"per client {manifest['records_per_client']}, sha256 {manifest['sha256'][:16]}...")
            with (OUT / "enrich-leads.ndjson").open("rb") as f:
                print(f.readline().decode().strip()[:150])

            banner("Purge the imported client: its leads 50 a request, then its record")
            bulkio(env, "purge", "--client", "imported-leads", "--dry-run", "--rate", "6000")
            bulkio(env, "purge", "--client", "imported-leads", "--yes", "--delete-client",
                   "--rate", "6000", "--job-dir", str(Path(tmp) / "purge-job"))
        finally:
            stop(proc)
    banner("Done")
    print("Rehearse your own runs: `bulkio sandbox --help` lists every knob; see README.md.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
