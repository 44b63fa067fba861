"""What a `bulkio process` job is asked to do, and which leads it concerns.

Before anything is sent: the company's settings say which of the asked services, processes
or fields can run at all (the others are skipped for every lead, and said so); the client's
projected listing (or --leads) says which leads to trigger, and, without --overwrite, which
of them already have a value in every target field that can run (the server would skip
them: bulkio does not spend a request on them).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ...errors import ConfigError
from ...leadgenius.processing import SETTINGS_OF
from ...store.process_journal import LeadState

if TYPE_CHECKING:  # a type only: the CLI reads --processes without the HTTP client
    from ...leadgenius.client import LeadGeniusClient

ENRICH_SERVICES = ("companyUrl", "emailFinder", *(f"enrichment{i}" for i in range(1, 11)))
SETTINGS_ROUTE = {"url": "/api/settings/url", "agent": "/api/settings/agent",
                  "sdr-ai": "/api/settings/sdr-ai"}


@dataclass(frozen=True)
class Where:
    """`--where FIELD=VALUE` (equal, as text) or `--where FIELD=` (empty or absent)."""

    field: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Where:
        name, eq, value = text.partition("=")
        if not eq or not name.strip() or not name.strip().replace("_", "").isalnum():
            raise ConfigError(f"--where takes FIELD=VALUE or FIELD= (empty), not {text!r}")
        return cls(name.strip(), value)

    def matches(self, lead: dict[str, Any]) -> bool:
        value = lead.get(self.field)
        text = "" if value is None else str(value)
        return text.strip() == self.value.strip()


@dataclass(frozen=True)
class ProcessSpec:
    """One processing job: a kind, what to run, on which leads."""

    kind: str  # enrich, copyright, sdr
    items: tuple[Any, ...]  # services, process numbers or fields, as the API takes them
    client: str | None = None  # slug; None with --leads only
    leads_file: Path | None = None
    where: tuple[Where, ...] = ()
    overwrite: bool = False

    def target(self, item: Any) -> str:
        """The lead field an item writes."""
        return f"copyright{item}" if self.kind == "copyright" else str(item)

    def fingerprint(self) -> dict[str, Any]:
        digest = None
        if self.leads_file is not None:
            digest = hashlib.sha256(self.leads_file.read_bytes()).hexdigest()[:16]
        return {"kind": self.kind, "items": list(self.items), "client": self.client,
                "leads_file": digest, "overwrite": self.overwrite,
                "where": [f"{w.field}={w.value}" for w in self.where]}


@dataclass
class Plan:
    """What the settings allow, and what the selection found."""

    runnable: list[Any]
    not_configured: list[Any]
    settings_kind: str
    selected: int = 0
    to_trigger: int = 0
    already_filled: int = 0  # leads skipped without a request (every runnable target has a value)
    filtered_out: int = 0  # listed leads that --where left out
    missing: int = 0  # ids of --leads that the client does not hold
    reasons: dict[str, str] = field(default_factory=dict)  # not configured item -> why


def configured(kind: str, item: Any, settings: dict[str, Any] | None) -> bool:
    conf = settings or {}
    if kind == "enrich":
        return bool(conf.get(str(item)))
    agent = f"enrichment{item}AgentId" if kind == "copyright" else f"{item}AgentId"
    return bool(conf.get("projectId") and conf.get(agent))


async def read_settings(api: LeadGeniusClient, spec: ProcessSpec) -> Plan:
    """Which items can run, from GET /api/settings/...: the others are skipped for every
    lead. None at all is a ConfigError (the run would trigger nothing)."""
    kind = SETTINGS_OF[spec.kind]
    settings = await api.get_settings(kind)
    runnable = [i for i in spec.items if configured(spec.kind, i, settings)]
    missing = [i for i in spec.items if i not in runnable]
    plan = Plan(runnable=runnable, not_configured=missing, settings_kind=kind)
    if not runnable:
        what = ", ".join(map(str, missing))
        raise ConfigError(f"every lead would be skipped: the company's {kind} settings configure "
                          f"none of {what} (set them with POST or PUT {SETTINGS_ROUTE[kind]})")
    return plan


def read_lead_ids(path: Path) -> list[str]:
    """--leads: lead ids one a line, or an export's NDJSON (its `id`); blank lines and #
    comments ignored."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read --leads {path}: {exc}") from None
    ids: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise ConfigError(f"--leads {path}, line {number}: not valid JSON") from None
            if not isinstance(record, dict) or not record.get("id"):
                raise ConfigError(f"--leads {path}, line {number}: a record without an id")
            ids.append(str(record["id"]))
        elif " " in line or "," in line:
            raise ConfigError(f"--leads {path}, line {number}: one lead id a line, not {line[:40]!r}")
        else:
            ids.append(line)
    if not ids:
        raise ConfigError(f"--leads {path} holds no lead id")
    return ids


Selected = tuple[str, str, str | None]  # (lead id, pending | skipped | not_found, why)


async def select(api: LeadGeniusClient, spec: ProcessSpec, plan: Plan) -> AsyncIterator[list[Selected]]:
    """The selected leads, a page at a time. With --leads and no --client, every id is
    triggered (the server says what it skips, and which ids do not exist); otherwise the
    client is listed, projected onto the fields that --where and the skipping need, and an
    id of --leads that the client does not hold is `not_found`."""
    wanted = read_lead_ids(spec.leads_file) if spec.leads_file is not None else None
    if spec.client is None:
        ids = list(dict.fromkeys(wanted or []))
        plan.selected = plan.to_trigger = len(ids)
        yield [(i, LeadState.PENDING, None) for i in ids]
        return
    unseen = dict.fromkeys(wanted) if wanted is not None else None
    targets = [spec.target(i) for i in plan.runnable]
    fields = sorted({*targets, *(w.field for w in spec.where)})
    seen: set[str] = set()  # a server may list a lead twice
    async for page in api.lead_pages(spec.client, fields=fields):
        chosen: list[Selected] = []
        for lead in page.items:
            lead_id = str(lead.get("id") or "")
            if not lead_id or lead_id in seen or (unseen is not None and lead_id not in unseen):
                continue
            seen.add(lead_id)
            if unseen is not None:
                del unseen[lead_id]
            if not all(w.matches(lead) for w in spec.where):
                plan.filtered_out += 1
                continue
            plan.selected += 1
            if not spec.overwrite and all(_filled(lead.get(t)) for t in targets):
                plan.already_filled += 1
                chosen.append((lead_id, LeadState.SKIPPED, "every target field already has a "
                                                        "value (--overwrite runs them again)"))
            else:
                plan.to_trigger += 1
                chosen.append((lead_id, LeadState.PENDING, None))
        yield chosen
    if unseen:
        plan.selected += len(unseen)
        plan.missing = len(unseen)
        yield [(i, LeadState.NOT_FOUND, f"not a lead of {spec.client}") for i in unseen]


def _filled(value: Any) -> bool:
    return value is not None and str(value).strip() != ""


def parse_items(kind: str, text: str) -> tuple[Any, ...]:
    """--services / --processes / --fields: a comma-separated list (numbers for copyright)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise ConfigError("name at least one service, process or field")
    if kind == "enrich":
        unknown = [p for p in parts if p not in ENRICH_SERVICES]
        if unknown:
            raise ConfigError(f"--services: {unknown[0]!r} is not an enrichment service; they "
                              f"are {', '.join(ENRICH_SERVICES)}")
    if kind != "copyright":
        return tuple(dict.fromkeys(parts))
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        raise ConfigError(f"--processes takes numbers from 1 to 10, not {text!r}") from None
    if any(not 1 <= n <= 10 for n in numbers):
        raise ConfigError(f"--processes takes numbers from 1 to 10, not {text!r}")
    return tuple(dict.fromkeys(numbers))

