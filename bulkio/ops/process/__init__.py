"""Bulk processing: enrichment, copyright and SDR triggers, each lead once, lost answers
looked up in the recent runs, runs tracked to their end."""
