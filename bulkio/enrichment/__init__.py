"""LeadGenius's legacy enrichment API: campaigns of accounts and contacts, their usage, the
exclusion list. Its own key and quota, apart from the Pro API's."""
