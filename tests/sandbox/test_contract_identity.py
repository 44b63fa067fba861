"""Contract: POST /api/auth, POST /api/auth/refresh, the three credential paths, GET /api/company."""

from __future__ import annotations

import re
import time

from bulkio.sandbox import tokens
from tests.conftest import RawApi


async def login(api: RawApi) -> dict[str, object]:
    answer = await api.call("POST", "/api/auth", auth=False,
                            json={"username": api.sb.email, "password": api.sb.password})
    assert answer.status == 200
    tokens: dict[str, object] = answer.body["tokens"]
    return tokens


async def test_login_returns_signed_jwts_with_sub_and_exp(api: RawApi) -> None:
    """A good password gets access, id and refresh tokens; the access token is an HS256 JWT."""
    toks = await login(api)
    assert set(toks) == {"accessToken", "idToken", "refreshToken", "expiresIn"}
    assert toks["expiresIn"] == 3600
    claims = tokens.verify(str(toks["accessToken"]), api.sb.state.store.secret)
    assert claims["sub"] == api.sb.user_id
    assert abs(claims["exp"] - (time.time() + 3600)) < 5


async def test_login_with_a_wrong_password_is_401_with_the_error_shape(api: RawApi) -> None:
    """Bad credentials: 401 and the documented error body."""
    answer = await api.call("POST", "/api/auth", auth=False,
                            json={"username": api.sb.email, "password": "wrong"})
    assert answer.status == 401
    assert answer.body["success"] is False
    assert isinstance(answer.body["error"], str) and answer.body["errorType"]


async def test_refresh_issues_a_new_access_token(api: RawApi) -> None:
    """The refresh token buys a new access token (and stays the same, as with Cognito)."""
    toks = await login(api)
    answer = await api.call("POST", "/api/auth/refresh", auth=False,
                            json={"refreshToken": toks["refreshToken"]})
    assert answer.status == 200
    new = answer.body["tokens"]
    assert new["accessToken"] != toks["accessToken"]
    assert new["refreshToken"] == toks["refreshToken"]
    ok = await api.call("GET", "/api/clients", headers=api.bearer(new["accessToken"]))
    assert ok.status == 200


async def test_refresh_with_an_unknown_or_revoked_token_is_401(api: RawApi) -> None:
    """Unknown and revoked refresh tokens are refused."""
    unknown = await api.call("POST", "/api/auth/refresh", auth=False, json={"refreshToken": "nope"})
    assert unknown.status == 401
    toks = await login(api)
    api.sb.state.store.revoke_refresh_tokens()
    revoked = await api.call("POST", "/api/auth/refresh", auth=False,
                             json={"refreshToken": toks["refreshToken"]})
    assert revoked.status == 401


async def test_an_expired_token_gets_401_token_expired(api: RawApi) -> None:
    """An expired access token is refused with errorType token_expired."""
    expired = tokens.issue(api.sb.user_id, api.sb.state.store.secret, -1, "access")
    answer = await api.call("GET", "/api/clients", headers=api.bearer(expired))
    assert answer.status == 401
    assert answer.body["errorType"] == "token_expired"


async def test_a_forged_token_and_no_credentials_get_no_valid_credentials(api: RawApi) -> None:
    """A token signed with another key, or none at all: 401 no_valid_credentials."""
    forged = tokens.issue(api.sb.user_id, b"not-the-key", 3600, "access")
    for headers in (api.bearer(forged), {}):
        answer = await api.call("GET", "/api/clients", headers=headers)
        assert answer.status == 401
        assert answer.body["errorType"] == "no_valid_credentials"


async def test_the_api_key_pair_authenticates_jwt_endpoints_too(api: RawApi) -> None:
    """x-api-key + x-user-id is the third method: accepted where Bearer is."""
    assert (await api.call("GET", "/api/clients", headers=api.api_key())).status == 200
    wrong_user = {"x-api-key": api.sb.api_key, "x-user-id": "someone-else"}
    assert (await api.call("GET", "/api/clients", headers=wrong_user)).status == 401


async def test_an_expired_bearer_falls_back_to_a_valid_api_key(api: RawApi) -> None:
    """Bearer is tried first, then the API-key pair."""
    expired = tokens.issue(api.sb.user_id, api.sb.state.store.secret, -1, "access")
    answer = await api.call("GET", "/api/clients", headers={**api.bearer(expired), **api.api_key()})
    assert answer.status == 200


async def test_company_is_resolved_from_the_identity(api: RawApi) -> None:
    """GET /api/company names the caller's company."""
    answer = await api.call("GET", "/api/company")
    assert answer.status == 200
    assert answer.body["company"]["company_id"] == api.sb.company_id
    assert answer.body["company"]["companyName"]


async def test_short_token_lifetime_knob(make_sandbox) -> None:  # type: ignore[no-untyped-def]
    """--token-ttl sets exp (in whole seconds, the token living at least that long)."""
    async with make_sandbox(token_ttl=5) as sb:
        claims = tokens.verify(sb.token, sb.state.store.secret)
        assert claims["exp"] - claims["iat"] in (5, 6)
        before = time.time()
        user = sb.state.store.user_by_id(claims["sub"])
        assert user is not None
        fresh = tokens.verify(sb.state.access_token(user), sb.state.store.secret)
        assert fresh["exp"] >= before + 5


async def test_an_api_key_is_made_shown_once_and_then_authenticates(api: RawApi) -> None:
    """POST /api/agent-api-keys (JWT): 201 with an `lgp_` key and 40 hex digits; the listing
    names it without the key; the new key with the user id reaches the bulk list endpoints."""
    made = await api.call("POST", "/api/agent-api-keys",
                          json={"name": "Import-Key", "description": "for bulk work"})
    assert made.status == 201 and made.body["success"] is True
    key = made.body["apiKey"]
    assert re.fullmatch(r"lgp_[0-9a-f]{40}", key) and made.body["name"] == "Import-Key"
    assert made.body["id"] and made.body["createdAt"]
    listed = await api.call("GET", "/api/agent-api-keys")
    assert listed.status == 200 and key not in str(listed.body)
    assert [k["name"] for k in listed.body["apiKeys"]] == ["sign-up key", "Import-Key"]
    pair = {"x-api-key": key, "x-user-id": api.sb.user_id}
    bulk = await api.call("GET", "/api/enrich-leads/list", headers=pair,
                          params={"companyId": api.sb.company_id, "limit": "1"})
    assert bulk.status == 200
    assert api.sb.state.store.db.execute(  # the database keeps a digest, never the key
        "SELECT count(*) FROM api_keys WHERE digest = ? OR description = ?",
        (key, key)).fetchone()[0] == 0


async def test_an_api_key_cannot_make_keys_and_a_name_is_required(api: RawApi) -> None:
    """Key creation takes a JWT only; a missing name is a 400."""
    by_key = await api.call("POST", "/api/agent-api-keys", headers=api.api_key(),
                            json={"name": "x"})
    assert by_key.status == 401 and by_key.body["errorType"] == "no_valid_credentials"
    nameless = await api.call("POST", "/api/agent-api-keys", json={"description": "x"})
    assert nameless.status == 400 and nameless.body["errorType"] == "missing_required_field"
