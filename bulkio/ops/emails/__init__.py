"""Email checks: each distinct address asked once, verdicts kept for --resume, one line per
row."""
