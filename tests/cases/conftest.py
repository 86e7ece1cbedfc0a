"""Domain tests drive the services through the HTTP API too: reuse the API fixtures."""

from tests.api.conftest import app, client, live, tokens  # noqa: F401
