"""The end of an export's file: closed (a CSV spill converted first), renamed into place, and
its manifest written beside it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import orjson

from ...formats.output import AppendFile, finish_file, sha256_file, spill_to_csv
from ...store.export_checkpoint import ExportCheckpoint
from ...store.files import atomic_write
from ...version import __version__
from .job import ExportOptions, Target


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


async def finish_file_in_place(target: Target, *, written: int, data: AppendFile | None,
                               spill: Path | None, header: bytes, csv_raw: bool) -> str:
    """Rename the target's file into place (`written`: its bytes so far; `data`: this run's
    open file, if any; `spill`: the NDJSON a CSV without --fields was spilled to) and return
    its sha256."""
    if spill is not None:
        digest = await anyio.to_thread.run_sync(
            lambda: spill_to_csv(spill, target.part, target.gzip, raw=csv_raw))
        await anyio.to_thread.run_sync(finish_file, target.part, target.path)
        spill.unlink()
        return digest
    if target.part.exists() or not target.path.exists():
        if written == 0 or data is None:  # nothing written: still a valid, empty file
            data = AppendFile(target.part, gzip=target.gzip, size=written, hashed=True)
            await data.open()
            if written == 0:
                await data.append(header)
            await data.close()
        await anyio.to_thread.run_sync(finish_file, target.part, target.path)
        return data.sha256
    # renamed by an earlier run that stopped before its manifest
    return await anyio.to_thread.run_sync(sha256_file, target.path)


def write_manifest(target: Target, checkpoint: ExportCheckpoint, options: ExportOptions, *,
                   endpoint: str, digest: str) -> None:
    """TARGET.manifest.json: what the file holds, per client, and how it was made."""
    meta = checkpoint.meta()
    state = checkpoint.targets()[target.name]
    streams = [s for s in checkpoint.streams() if s.target == target.name]
    per_client: dict[str, int] = {}
    misfiled: dict[str, int] = {}
    for s in streams:
        per_client[s.label] = per_client.get(s.label, 0) + s.records
        if s.client is not None and s.client != s.label and s.records:
            misfiled[s.label] = s.records
    manifest: dict[str, Any] = {
        "file": target.path.name, "kind": target.name, "format": target.format,
        "gzip": target.gzip, "company_id": meta.get("company_id"),
        "clients": sorted(per_client), "fields": list(options.fields or []) or None,
        "records": state.records, "records_per_client": per_client,
        "filed_under_client_uuid": misfiled, "pages": state.pages,
        "duplicates_dropped": state.duplicates, "bytes": target.path.stat().st_size,
        "sha256": digest, "endpoint": endpoint,
        "cursors": "single" if any(s.client is None for s in streams) else "per client",
        "started_at": meta.get("started_iso"), "finished_at": now_iso(),
        "bulkio_version": __version__,
        **({"formula_cells": "as they are (--csv-raw)" if options.csv_raw else
            "prefixed with ' (text starting with = + - @ tab or CR)"}
           if target.format == "csv" else {}),
    }
    atomic_write(target.manifest, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
