"""bulkio's benchmarks: ratios measured in one run against the sandbox on loopback."""
