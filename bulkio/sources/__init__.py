"""Where rows come from: input files (CSV and NDJSON, optionally gzip-compressed, or stdin).

A source yields `Record`s (its number, values, the record as it was, and why it could not be
read, if it could not) and a byte offset to resume from; it never knows where rows go.
"""
