"""An import's requests, and what each answer means for its rows (their `Outcome`s).

- a single create: its 201 carries the lead, which is then created; a lost answer leaves the
  row unknown (settled later from the client's listing);
- a batch create: its 201 is a claim (the batch POST may store nothing), so its rows only
  await verification; the rows it says it skipped, and the rows of a batch it refuses, are
  sent one by one at once for a definite answer;
- a batch update, and single updates when its count does not add up (updates are safe to
  repeat).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ...errors import (
    ApiError,
    AuthError,
    ConnectError,
    LeadRejected,
    OutcomeUnknown,
    Transient,
    TransportError,
)
from ...leadgenius.client import LeadGeniusClient
from ...store.import_journal import Outcome, RowState

AWAITING = "sent in a batch; not yet seen in the client's listing"


@dataclass(slots=True)
class CreateJob:
    rowno: int
    payload: dict[str, str]


@dataclass(slots=True)
class BatchJob:
    items: list[CreateJob]


@dataclass(slots=True)
class UpdateJob:
    items: list[tuple[int, str, dict[str, str]]]  # (rowno, lead id, changes)


Job = CreateJob | BatchJob | UpdateJob


def rownos(job: Job) -> list[int]:
    """The input rows a job carries."""
    if isinstance(job, CreateJob):
        return [job.rowno]
    if isinstance(job, BatchJob):
        return [item.rowno for item in job.items]
    return [rowno for rowno, _, _ in job.items]


class Requests:
    """Sends jobs; `before_batch(rownos)` journals a batch's rows before it goes out."""

    def __init__(self, api: LeadGeniusClient,
                 before_batch: Callable[[list[int]], Awaitable[None]]) -> None:
        self.api = api
        self.before_batch = before_batch

    async def outcomes(self, job: Job) -> list[Outcome]:
        if isinstance(job, CreateJob):
            return [await self.create(job)]
        if isinstance(job, BatchJob):
            return await self.create_batch(job)
        return await self.update(job)

    async def create(self, job: CreateJob) -> Outcome:
        try:
            lead = await self.api.create_lead(job.payload)
        except AuthError:
            raise
        except LeadRejected as exc:
            return Outcome(job.rowno, RowState.REJECTED, error=f"refused by the API: {exc.message}")
        except OutcomeUnknown as exc:
            return Outcome(job.rowno, RowState.ATTEMPTED, error=f"outcome unknown: {exc.cause}")
        except ApiError as exc:
            if isinstance(exc, Transient):  # retries spent on 429/503: it was not created
                return Outcome(job.rowno, RowState.ATTEMPTED, error=str(exc), maybe_sent=False)
            return Outcome(job.rowno, RowState.REJECTED,
                           error=f"refused by the API: HTTP {exc.status} {exc.message}")
        except TransportError as exc:
            return Outcome(job.rowno, RowState.ATTEMPTED, error=str(exc),
                           maybe_sent=not isinstance(exc, ConnectError))
        lead_id = lead.get("id")
        if not lead_id:  # created, but we cannot tell which lead: the listing will
            return Outcome(job.rowno, RowState.ATTEMPTED, error="the answer carried no lead id")
        return Outcome(job.rowno, RowState.CREATED, lead_id=str(lead_id))

    async def create_batch(self, job: BatchJob) -> list[Outcome]:
        await self.before_batch([item.rowno for item in job.items])
        try:
            skipped = await self.api.create_leads([item.payload for item in job.items])
        except AuthError:
            raise
        except OutcomeUnknown as exc:
            return self._unknown(job, f"batch outcome unknown: {exc.cause}")
        except ApiError as exc:
            if isinstance(exc, Transient):  # retries spent on 429/503: not applied
                return self._unknown(job, str(exc), maybe_sent=False)
            # A refused batch: each lead alone gets a definite answer (the refusal names none).
            return [await self.create(item) for item in job.items]
        except TransportError as exc:
            return self._unknown(job, str(exc), maybe_sent=not isinstance(exc, ConnectError))
        outcomes = [Outcome(item.rowno, RowState.ATTEMPTED, error=AWAITING, sent_as="batch",
                            awaiting=True)
                    for index, item in enumerate(job.items) if index not in skipped]
        # What it says it skipped it did not store: sent alone, the API says why (or takes it).
        outcomes += [await self.create(job.items[index]) for index in sorted(skipped)
                     if 0 <= index < len(job.items)]
        return outcomes

    @staticmethod
    def _unknown(job: BatchJob, error: str, maybe_sent: bool = True) -> list[Outcome]:
        return [Outcome(item.rowno, RowState.ATTEMPTED, error=error, maybe_sent=maybe_sent,
                        sent_as="batch") for item in job.items]

    async def update(self, job: UpdateJob) -> list[Outcome]:
        """The batch PUT; if it does not account for every lead, one PUT each to find out."""
        try:
            updated = await self.api.update_leads([{"id": lead, **ch} for _, lead, ch in job.items])
        except AuthError:
            raise
        except (ApiError, TransportError) as exc:
            if isinstance(exc, Transient):
                return [Outcome(r, RowState.UPDATING, error=str(exc), was=RowState.UPDATING, sent_as=None)
                        for r, _, _ in job.items]
            updated = -1
        if updated == len(job.items):
            return [Outcome(r, RowState.UPDATED, lead_id=lead, was=RowState.UPDATING, sent_as=None)
                    for r, lead, _ in job.items]
        return [await self.update_one(r, lead, ch) for r, lead, ch in job.items]

    async def update_one(self, rowno: int, lead_id: str, changes: dict[str, str]) -> Outcome:
        try:
            await self.api.update_lead(lead_id, changes)
        except AuthError:
            raise
        except (ApiError, TransportError) as exc:
            if isinstance(exc, Transient):
                return Outcome(rowno, RowState.UPDATING, error=str(exc), was=RowState.UPDATING, sent_as=None)
            state = RowState.FAILED if isinstance(exc, ApiError) and exc.status == 404 \
                else RowState.REJECTED
            return Outcome(rowno, state, error=f"update refused: {exc}", was=RowState.UPDATING,
                           sent_as=None)
        return Outcome(rowno, RowState.UPDATED, lead_id=lead_id, was=RowState.UPDATING, sent_as=None)
