"""What lasts on disk: SQLite job databases (one thread for their calls), atomic file writes,
and each operation's durable state: the import journal and its listing checks, the process and
email journals, the HubSpot company cache, the export checkpoint and the purge spool."""
