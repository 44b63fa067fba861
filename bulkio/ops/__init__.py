"""The operations: import, export, purge. They take plain arguments, report through hooks,
and never print, read os.environ or exit: only bulkio.cli does that."""
