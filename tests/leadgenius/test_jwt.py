"""Reading a JWT's claims: right for real tokens, never a crash for garbage."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from bulkio.leadgenius import jwt
from bulkio.sandbox import tokens


@given(sub=st.text(min_size=1), exp=st.integers(min_value=0, max_value=2**40),
       ttl=st.integers(min_value=1, max_value=10**6))
def test_claims_of_a_signed_token(sub: str, exp: int, ttl: int) -> None:
    """exp, sub and the lifetime come back from any well-formed token."""
    token = tokens.sign({"sub": sub, "exp": exp, "iat": exp - ttl}, b"k")
    assert jwt.expires_at(token) == exp
    assert jwt.subject(token) == sub
    assert jwt.lifetime(token) == ttl


@given(st.text())
@example("a.b.c")
@example("x.eyJleHAiOiJzb29uIn0.y")  # exp is a string
@example("x.WzFd.y")  # payload is a list
def test_garbage_never_raises(text: str) -> None:
    """Anything that is not a readable JWT has no claims."""
    assert isinstance(jwt.claims(text), dict)
    assert jwt.expires_at(text) is None or isinstance(jwt.expires_at(text), float)
