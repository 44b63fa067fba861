"""`bulkio sync hubspot:contacts`: a LeadGenius client kept in step with a HubSpot portal,
change by change (state in store.sync_state; one run in run.py)."""
