"""`bulkio serve`: the LeadVibe seed's lead import job API, and a web page on top of it, over
the same engine as the CLI (../shared/seeds/leadvibe-lead-import-api.md)."""
