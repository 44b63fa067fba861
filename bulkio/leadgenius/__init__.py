"""The LeadGenius Pro API's client: settings and the saved-credentials file, authentication
(JWT or API key, refreshed once for all workers), the wire envelopes, one method per endpoint,
and the processing and email-check calls."""
