"""HubSpot as a source: CRM v3 contacts with their companies, and the legacy v1 leads list."""
