"""The operations, one package each (imports, exports, purge, process, emails), and what they
share: job directories and locks (jobs), a run's finish and report (runs), the worker pool.
They take plain arguments, report through hooks, and never print, read os.environ or exit:
only bulkio.cli does that."""
