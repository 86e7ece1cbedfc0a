"""Console fixtures: the API app with the console mounted, one signed-up user per role."""

from __future__ import annotations

from typing import Any

import pytest

from liuhen.console import accounts
from liuhen.console.config import ConsoleSettings

ROLES = ("clerk", "reviewer", "legal_reviewer", "supervisor", "admin", "external")
PASSWORD = "Correct-Horse-9"  # satisfies the policy; users are created with must_change=False


@pytest.fixture
def csettings() -> ConsoleSettings:
    return ConsoleSettings(lockout_failures=3, lockout_minutes=15)


@pytest.fixture
def users(runtime) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with runtime.catalog.tx() as conn:
        for role in ROLES:
            accounts.upsert_user(conn, name=f"u_{role}", role=role, unit_code="U1")
            accounts.set_password(conn, user=f"u_{role}", password=PASSWORD, settings=ConsoleSettings(),
                                  must_change=False, actor="test")
    return {role: f"u_{role}" for role in ROLES}


@pytest.fixture
def web(runtime, csettings):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from liuhen.api.app import create_app
    from liuhen.console.app import mount

    app = create_app(runtime)
    mount(app, runtime, settings=csettings)
    with TestClient(app, raise_server_exceptions=False, base_url="http://testserver") as c:
        yield c


def login(client: Any, user: str, password: str = PASSWORD) -> Any:
    page = client.get("/ui/login")
    token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    return client.post("/ui/login", data={"user": user, "password": password, "csrf": token},
                       follow_redirects=False)


def csrf_of(html: str) -> str:
    return html.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
