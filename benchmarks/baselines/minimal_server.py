"""The smallest aiohttp server that answers a lead POST: the reference for the sandbox's ceiling.

Prints one JSON line with its base_url once listening, like `bulkio sandbox`.
"""

import asyncio
import signal
import sys

import orjson
from aiohttp import web

BODY = orjson.dumps({"success": True, "lead": {"id": "lead-0"}})


async def post_lead(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(status=201, body=BODY, content_type="application/json")


async def main() -> None:
    app = web.Application()
    app.router.add_post("/api/leads", post_lead)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    sys.stdout.write(orjson.dumps({"base_url": f"http://127.0.0.1:{port}"}).decode() + "\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
