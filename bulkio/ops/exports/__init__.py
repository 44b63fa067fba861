"""Exports: one cursor per kind and client, pages encoded and written by one writer per
file, checkpointed after each write so that --resume continues where it stopped."""
