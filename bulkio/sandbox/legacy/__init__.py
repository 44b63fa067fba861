"""The twin of LeadGenius's legacy enrichment API (campaigns, exclusions, usage, webhooks)."""
