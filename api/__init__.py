"""Liuhen HTTP API (FastAPI) and the case/access service functions behind it."""
