"""The console's view of the one role matrix (``liuhen.api.roles``: API rows and console page rows)."""

from __future__ import annotations

from liuhen.console.services import CONSOLE_ACCESS_EVENT_PAGES, CONSOLE_PAGES, roles_allowed

PAGES = CONSOLE_PAGES
# Pages that record their own access event before the first byte (I5) instead of a read-journal row.
ACCESS_EVENT_PAGES = CONSOLE_ACCESS_EVENT_PAGES


def allowed(name: str, role: str) -> bool:
    return roles_allowed(name, role)
