"""Contract: /api/leads (JWT) with every documented quirk."""

from __future__ import annotations

from collections import Counter
from typing import Any

import anyio
import pytest

from bulkio.sandbox.leads import CREATE_FAILED
from tests.conftest import RawApi, lead


@pytest.fixture
async def slug(api: RawApi) -> str:
    answer = await api.call("POST", "/api/clients", json={"clientName": "Lead Tests"})
    return str(answer.body["client"]["client_id"])


async def post(api: RawApi, payload: Any) -> Any:
    return await api.call("POST", "/api/leads", json=payload)


async def test_single_post_stores_the_lead(api: RawApi, slug: str) -> None:
    """The single-lead POST answers 201 with the stored lead and its id."""
    answer = await post(api, lead(slug, phoneNumber="+1 555 0100", title="CTO"))
    assert answer.status == 201
    stored = answer.body["lead"]
    assert stored["id"].startswith("lead-") and stored["phoneNumber"] == "+1 555 0100"
    assert [x["id"] for x in await api.all_leads(slug)] == [stored["id"]]


@pytest.mark.parametrize("payload_change", [
    {"client_id": None},                      # client_id is required
    {"firstName": None},                      # firstName must be non-empty
    {"lastName": ""},                         # lastName must be non-empty
    {"firstName": "   "},                     # ... not just spaces
    {"title": ""},                            # an optional field as an empty string
    {"companyName": ""},
    {"phone": "+1 555 0100"},                 # the phone field is phoneNumber
    {"lastName": "."},                        # a dot as last name
])
async def test_each_broken_payload_rule_is_the_validation_500(
        api: RawApi, slug: str, payload_change: dict[str, Any]) -> None:
    """Every documented rule is a 500 'Failed to create lead - no data returned', storing nothing."""
    payload = lead(slug)
    payload.update(payload_change)
    payload = {k: v for k, v in payload.items() if v is not None}
    answer = await post(api, payload)
    assert answer.status == 500
    assert answer.body == {"success": False, "error": CREATE_FAILED, "errorType": "internal_error"}
    assert await api.all_leads(slug) == []


async def test_a_dash_last_name_is_accepted(api: RawApi, slug: str) -> None:
    """`-` is the fallback last name that works."""
    assert (await post(api, lead(slug, lastName="-"))).status == 201


async def test_batch_post_answers_201_and_stores_nothing(api: RawApi, slug: str) -> None:
    """The batch POST bug: 201 with a correct `created` count, nothing persisted (default)."""
    leads = [lead(slug, email=f"b{i}@x.com") for i in range(3)] + [lead(slug, title="")]
    answer = await post(api, {"leads": leads})
    assert answer.status == 201
    assert answer.body["success"] is True and answer.body["created"] == 3
    assert [s["index"] for s in answer.body["skipped"]] == [3]
    assert await api.all_leads(slug) == []


async def test_batch_persist_knob_stores_that_fraction(api: RawApi, slug: str) -> None:
    """--batch-persist 1 makes the batch POST honest."""
    api.sb.config.batch_persist = 1.0
    await post(api, {"leads": [lead(slug, email=f"p{i}@x.com") for i in range(4)]})
    assert len(await api.all_leads(slug)) == 4


async def test_batch_drop_mode_all_stores_whole_batches_or_nothing(api: RawApi, slug: str) -> None:
    """--batch-drop-mode all: each batch is stored whole or not at all, and the 201 is the
    same either way."""
    api.sb.config.batch_persist, api.sb.config.batch_drop_mode = 0.5, "all"
    for b in range(30):
        answer = await post(api, {"leads": [lead(slug, email=f"a{b}-{i}@x.com") for i in range(4)]})
        assert answer.status == 201 and answer.body["created"] == 4
    per_batch = Counter(x["email"].split("-")[0] for x in await api.all_leads(slug))
    assert set(per_batch.values()) == {4} and 0 < len(per_batch) < 30


async def test_batch_drop_mode_random_stores_subsets(api: RawApi, slug: str) -> None:
    """--batch-drop-mode random (the default): each lead is kept with the probability."""
    api.sb.config.batch_persist = 0.5
    for b in range(30):
        await post(api, {"leads": [lead(slug, email=f"r{b}-{i}@x.com") for i in range(4)]})
    per_batch = Counter(x["email"].split("-")[0] for x in await api.all_leads(slug))
    assert any(0 < n < 4 for n in per_batch.values())


async def test_a_late_batch_appears_after_its_201(api: RawApi, slug: str) -> None:
    """--batch-persist-delay-ms: the 201 comes at once, the leads only after the delay."""
    api.sb.config.batch_persist, api.sb.config.batch_persist_delay_ms = 1.0, (200.0, 300.0)
    stored = api.sb.state.when("batch_stored", 1)
    answer = await post(api, {"leads": [lead(slug, email=f"d{i}@x.com") for i in range(3)]})
    assert answer.status == 201 and await api.all_leads(slug) == []
    with anyio.fail_after(5):
        await stored.wait()
    assert len(await api.all_leads(slug)) == 3


async def test_list_total_is_the_page_size_and_the_cursor_pages_on(api: RawApi, slug: str) -> None:
    """`total` is the page's size, not the client's count; nextToken leads to the rest."""
    for i in range(5):
        await post(api, lead(slug, email=f"l{i}@x.com"))
    first = await api.call("GET", "/api/leads", params={"client_id": slug, "limit": 2})
    assert first.body["total"] == 2 and len(first.body["leads"]) == 2
    assert first.body["nextToken"]
    seen = [x["email"] for x in first.body["leads"]]
    token = first.body["nextToken"]
    while token:
        page = await api.call("GET", "/api/leads", params={"client_id": slug, "limit": 2,
                                                            "nextToken": token})
        assert page.body["total"] == len(page.body["leads"])
        seen += [x["email"] for x in page.body["leads"]]
        token = page.body["nextToken"]
    assert seen == [f"l{i}@x.com" for i in range(5)]


async def test_list_needs_client_id_and_caps_limit_at_1000(api: RawApi, slug: str) -> None:
    """client_id is required; limit above 1000 serves 1000; below 1 is a 400."""
    assert (await api.call("GET", "/api/leads")).status == 400
    assert (await api.call("GET", "/api/leads", params={"client_id": slug, "limit": 0})).status == 400
    ok = await api.call("GET", "/api/leads", params={"client_id": slug, "limit": 5000})
    assert ok.status == 200


async def test_cursor_name_knob_lastkey(api: RawApi, slug: str) -> None:
    """Some deployments call the cursor lastKey; it is accepted back under either name."""
    api.sb.config.cursor_name = "lastKey"
    for i in range(3):
        await post(api, lead(slug, email=f"k{i}@x.com"))
    first = await api.call("GET", "/api/leads", params={"client_id": slug, "limit": 2})
    assert "nextToken" not in first.body and first.body["lastKey"]
    second = await api.call("GET", "/api/leads", params={"client_id": slug, "limit": 2,
                                                          "lastKey": first.body["lastKey"]})
    assert [x["email"] for x in second.body["leads"]] == ["k2@x.com"]


async def test_deleting_rows_behind_a_cursor_makes_it_skip_rows(api: RawApi, slug: str) -> None:
    """The cursor is opaque and offset-like: rows deleted before it make the next page skip."""
    ids = [(await post(api, lead(slug, email=f"c{i}@x.com"))).body["lead"]["id"] for i in range(6)]
    first = await api.call("GET", "/api/leads", params={"client_id": slug, "limit": 2})
    deleted = await api.call("DELETE", "/api/leads", json={"ids": ids[:2]})
    assert deleted.body["deleted"] == 2
    second = await api.call("GET", "/api/leads", params={"client_id": slug, "limit": 2,
                                                          "nextToken": first.body["nextToken"]})
    assert [x["id"] for x in second.body["leads"]] == ids[4:6]  # c2 and c3 were skipped


async def test_a_foreign_cursor_is_400(api: RawApi, slug: str) -> None:
    """A token from another query, or garbage, is refused."""
    other = (await api.slugs())[0]
    for i in range(3):
        await post(api, lead(other, email=f"o{i}@x.com"))
    page = await api.call("GET", "/api/leads", params={"client_id": other, "limit": 1})
    for token in (page.body["nextToken"], "garbage"):
        answer = await api.call("GET", "/api/leads", params={"client_id": slug, "nextToken": token})
        assert answer.status == 400


async def test_single_put_updates_and_unknown_is_404(api: RawApi, slug: str) -> None:
    """PUT {id, ...} changes the lead; an unknown id is 404."""
    created = (await post(api, lead(slug))).body["lead"]
    answer = await api.call("PUT", "/api/leads", json={"id": created["id"], "title": "VP"})
    assert answer.status == 200 and answer.body["lead"]["title"] == "VP"
    assert (await api.call("PUT", "/api/leads", json={"id": "lead-x", "title": "VP"})).status == 404


async def test_batch_put_persists(api: RawApi, slug: str) -> None:
    """The batch PUT answers `updated` and the changes are stored."""
    ids = [(await post(api, lead(slug, email=f"u{i}@x.com"))).body["lead"]["id"] for i in range(3)]
    items = [{"id": i, "notes": f"note {n}"} for n, i in enumerate(ids)] + [{"id": "lead-missing"}]
    answer = await api.call("PUT", "/api/leads", json={"leads": items})
    assert answer.status == 200 and answer.body["updated"] == 3
    assert sorted(x["notes"] for x in await api.all_leads(slug)) == ["note 0", "note 1", "note 2"]


async def test_single_delete(api: RawApi, slug: str) -> None:
    """DELETE ?id= removes one lead; again is 404."""
    created = (await post(api, lead(slug))).body["lead"]
    assert (await api.call("DELETE", "/api/leads", params={"id": created["id"]})).status == 200
    assert (await api.call("DELETE", "/api/leads", params={"id": created["id"]})).status == 404


async def test_batch_delete_at_most_50_and_deleted_may_be_lower(api: RawApi, slug: str) -> None:
    """Up to 50 ids; `deleted` counts only those that existed; 51 ids is a 400."""
    ids = [(await post(api, lead(slug, email=f"d{i}@x.com"))).body["lead"]["id"] for i in range(3)]
    answer = await api.call("DELETE", "/api/leads", json={"ids": [*ids, "lead-unknown"]})
    assert answer.status == 200 and answer.body["deleted"] == 3
    too_many = await api.call("DELETE", "/api/leads", json={"ids": [f"x{i}" for i in range(51)]})
    assert too_many.status == 400


async def test_batch_delete_drop_knob_silently_keeps_some(api: RawApi, slug: str) -> None:
    """--batch-delete-drop 1: answered 200 with deleted 0, and the leads remain."""
    api.sb.config.batch_delete_drop = 1.0
    ids = [(await post(api, lead(slug, email=f"k{i}@x.com"))).body["lead"]["id"] for i in range(3)]
    answer = await api.call("DELETE", "/api/leads", json={"ids": ids})
    assert answer.status == 200 and answer.body["deleted"] == 0
    assert len(await api.all_leads(slug)) == 3


async def test_a_lead_posted_with_the_client_uuid_is_invisible_under_the_slug(
        api: RawApi, slug: str) -> None:
    """Invisible leads: stored under the UUID, so listing by slug misses them."""
    client = (await api.call("GET", "/api/clients", params={"clientId": slug})).body["clients"][0]
    answer = await post(api, lead(client["id"]))
    assert answer.status == 201
    assert await api.all_leads(slug) == []
    assert len(await api.all_leads(client["id"])) == 1


async def test_tenants_are_isolated(api: RawApi, slug: str) -> None:
    """Another company's user neither sees nor deletes this company's leads."""
    created = (await post(api, lead(slug))).body["lead"]
    other = api.sb.state.add_user("other@sandbox.local", "Other Co")
    headers = {"x-api-key": other.api_key, "x-user-id": other.id}
    listed = await api.call("GET", "/api/leads", params={"client_id": slug}, headers=headers)
    assert listed.body["leads"] == []
    gone = await api.call("DELETE", "/api/leads", params={"id": created["id"]}, headers=headers)
    assert gone.status == 404
    assert len(await api.all_leads(slug)) == 1


async def test_an_empty_string_in_a_put_clears_the_field(api: RawApi, slug: str) -> None:
    """Unlike the POST (where "" is a 500), a PUT's "" clears the field: single and batch."""
    one = (await api.call("POST", "/api/leads", json=lead(slug, email="a@x.com", title="CTO",
                                                           companyName="Acme"))).body["lead"]
    two = (await api.call("POST", "/api/leads", json=lead(slug, email="b@x.com", title="VP"))
           ).body["lead"]
    answer = await api.call("PUT", "/api/leads", json={"id": one["id"], "title": ""})
    assert answer.status == 200 and "title" not in answer.body["lead"]
    answer = await api.call("PUT", "/api/leads", json={"leads": [{"id": two["id"], "title": ""}]})
    assert answer.body == {"success": True, "updated": 1}
    stored = {x["id"]: x for x in await api.all_leads(slug)}
    assert "title" not in stored[two["id"]] and stored[one["id"]]["companyName"] == "Acme"
