"""The web console: server-rendered pages over the same services and the one role matrix as the JSON API."""
