"""Reading input files (CSV, NDJSON, gzip, stdin), mapping columns to lead fields, and
building payloads that obey the API's rules."""
