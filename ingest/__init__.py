"""Ingest: discover docked recorders, copy each file once while hashing, commit to the WORM store and log."""
