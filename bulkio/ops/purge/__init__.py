"""Purges: a client's leads listed into a spool, deleted 50 a request, listed again until
none is left."""
