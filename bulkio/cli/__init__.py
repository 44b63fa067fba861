"""The `bulkio` command line. Only this package prints, reads os.environ or exits."""
