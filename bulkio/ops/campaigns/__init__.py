"""Enrichment campaigns of LeadGenius's legacy API: the exclusion list (and, to come, uploads
and downloads)."""
