"""The request path every API client shares: the transport (aiohttp, or a fake), retries,
the quota limiter, run statistics, base URL checks and the redaction of secrets from logs."""
