"""`bulkio serve`: the LeadVibe lead import job API, and a web page on top of it, over the
same engine as the CLI (docs/web-page.md)."""
