"""What records become: input columns mapped to lead fields, payloads that obey the API's
rules, the rejects file, and the export's output encoding."""
