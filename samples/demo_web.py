"""`make demo-web`: the sandbox and `bulkio serve` together, for a look at the web page.

Starts `bulkio sandbox` (3 clients, their leads, a 6,000 a minute quota so jobs take seconds)
and `bulkio serve` acting as the sandbox's user (a throwaway auth file and data directory),
prints the page's address and the service token to log in with, and serves until Ctrl-C.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from running import started, stop

SANDBOX = ["--port", "0", "--quota", "6000", "--clients", "3", "--leads", "3000"]


def service_token(served: dict[str, str]) -> str:
    """In serve's first line at the first start; else in the 0600 file that line names."""
    return served.get("token") or Path(served["token_file"]).read_text(encoding="ascii").strip()


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
        print(f"\nOpen {served['url']}/ and log in with the service token:\n\n    "
              f"{service_token(served)}\n\nUpload samples/leads.csv, pick the client acme-corp, start. "
              "Ctrl-C stops both.", flush=True)
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
