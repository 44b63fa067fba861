"""Moved: the LeadGenius Pro client is `bulkio.leadgenius.client` (and `bulkio.LeadGeniusClient`,
`bulkio.open_client`). This path keeps working for one release, with a DeprecationWarning."""

import warnings

from .leadgenius.client import LeadGeniusClient, open_client

__all__ = ["LeadGeniusClient", "open_client"]

warnings.warn("bulkio.client moved to bulkio.leadgenius.client (or use bulkio.LeadGeniusClient); "
              "the old path goes in the next release", DeprecationWarning, stacklevel=2)
