"""`make demo-hubspot`: HubSpot to LeadGenius, rehearsed against the sandbox's HubSpot twin.

Starts `bulkio sandbox` with a HubSpot portal of 2,000 contacts (the guide's mess included:
empty company properties, missing names, mobile phones only, contacts without an email) and
300 legacy v1 leads, on the same port, the portal changing 5 times a second. Then: a dry run
of `hubspot:contacts` (the first mapped payloads, what 10,000 contacts would cost at both
quotas), the import into a new client, a look at what landed (company from the association,
phone from mobilephone, notes lines), two syncs that keep the client in step, and the legacy
leads into a second client. Nothing of yours is touched: a throwaway auth file,
and the twin's token in HUBSPOT_ACCESS_TOKEN for this process only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson
from running import banner, bulkio, started, stop

SANDBOX = ["--port", "0", "--quota", "6000", "--clients", "1", "--hubspot-contacts", "2000",
           "--hubspot-leads-v1", "300", "--chaos-seed", "7", "--hubspot-churn", "300"]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bulkio-demo-hubspot-") as tmp:
        banner("Starting the sandbox, with its HubSpot twin on the same port")
        proc, info = started(["sandbox", *SANDBOX])
        try:
            print(f"LeadGenius and HubSpot at {info['base_url']}")
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("LEADGENIUS_", "HUBSPOT_"))}
            env.update(LEADGENIUS_AUTH_FILE=str(Path(tmp) / "auth.json"),
                       LEADGENIUS_BASE_URL=info["base_url"], LEADGENIUS_EMAIL=info["email"],
                       LEADGENIUS_PASSWORD=info["password"], LEADGENIUS_API_KEY=info["api_key"],
                       LEADGENIUS_USER_ID=info["user_id"],
                       HUBSPOT_ACCESS_TOKEN=info["hubspot_token"],
                       HUBSPOT_BASE_URL=info["base_url"])

            banner("Dry run: the first HubSpot contacts, mapped by the guide's table; nothing sent")
            bulkio(env, "import", "hubspot:contacts", "--create-client", "From HubSpot",
                   "--dry-run", "--tier", "premium")

            banner("Import every contact (contacts without an email are rejected, with the reason)")
            jobs = Path(tmp) / "contacts-job"
            bulkio(env, "import", "hubspot:contacts", "--create-client", "From HubSpot",
                   "--rate", "6000", "--job-dir", str(jobs), ok=(0, 1))
            rejects = jobs / "rejects.ndjson"
            if rejects.exists():
                first = orjson.loads(rejects.read_bytes().splitlines()[0])
                print(f"first rejected: HubSpot id {first['_hubspot_id']}: {first['_error']}")

            banner("What landed: company from the association, phone from mobilephone, notes")
            out = subprocess.run([sys.executable, "-m", "bulkio", "export", "--out", "-",
                                  "--client", "from-hubspot", "--quiet", "--fields",
                                  "email,companyName,phoneNumber,notes", "--rate", "6000"],
                                 env=env, capture_output=True, check=True)
            for record in out.stdout.splitlines()[:3]:
                print(record.decode()[:160])

            banner("Keep the client in step: the portal changes 5 times a second (edits, new "
                   "contacts, emails, archives, merges); each sync sends only what changed")
            state = str(Path(tmp) / "sync-state")
            for _ in range(2):  # the first matches the imported leads by email, once
                bulkio(env, "sync", "hubspot:contacts", "--client", "from-hubspot",
                       "--state-dir", state, "--lookback", "2s", "--archived", "note",
                       "--rate", "6000", ok=(0, 1))

            banner("The legacy v1 leads list, into a second client")
            bulkio(env, "import", "hubspot:leads-v1", "--create-client", "HubSpot Legacy",
                   "--rate", "6000", "--job-dir", str(Path(tmp) / "v1-job"), ok=(0, 1))
            bulkio(env, "clients", "--counts", "--rate", "6000")
        finally:
            stop(proc)
    banner("Done")
    print("Against your portal: HUBSPOT_ACCESS_TOKEN=<private-app token> bulkio import "
          "hubspot:contacts --client <slug> --dry-run, then bulkio sync hubspot:contacts "
          "--client <slug>; see 'From HubSpot' and 'Keeping a client in sync' in docs/.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
