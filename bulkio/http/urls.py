"""Base URLs, checked the same way for every API bulkio speaks: http(s) only, and no
credentials over plain http except to this machine."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from ..errors import ConfigError


def normalise_base_url(url: str, insecure: bool, *, setting: str, example: str) -> str:
    """Validate an API's base URL (`setting` names where it came from, `example` a good one);
    refuse plain http to anything but loopback unless `insecure`."""
    url = url.strip().rstrip("/")
    if url.endswith("/api"):
        url = url[: -len("/api")]  # LeadGenius's documentation writes it with /api; both work
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"the base URL {url!r} is not an http(s) URL; set {setting} to e.g. "
                          f"{example}")
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not insecure:
        raise ConfigError(f"refusing to send credentials over plain http:// to {parts.hostname}; "
                          "use https://, or pass --insecure if you really mean it")
    return url


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
