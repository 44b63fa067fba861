"""The HubSpot twin: CRM v3 contacts and companies, and the legacy v1 leads list."""
