"""console/routes/oversight.py: the oversight page lists only what the caller's units may oversee (as /access/*)."""

from __future__ import annotations

from liuhen.cases import access, readaudit
from liuhen.cases.principal import Principal
from liuhen.console import accounts
from liuhen.console.config import ConsoleSettings
from tests.api.helpers import store_file
from tests.console.conftest import PASSWORD, login

EAST, WEST, NORTH = "110101000000", "110102000000", "110105000000"  # three county-level units (GB/T 2260)


def test_oversight_page_is_scoped_by_unit(runtime, web, media) -> None:  # type: ignore[no-untyped-def]
    with runtime.catalog.tx() as conn:
        for name, role, unit in (("sup_east", "supervisor", EAST), ("sup_west", "supervisor", WEST),
                                 ("viewer_east", "reviewer", EAST), ("viewer_west", "reviewer", WEST),
                                 ("viewer_north", "reviewer", NORTH)):
            accounts.upsert_user(conn, name=name, role=role, unit_code=unit)
            accounts.set_password(conn, user=name, password=PASSWORD, settings=ConsoleSettings(), must_change=False,
                                  actor="test")
        for user, role, path in (("viewer_east", "reviewer", "/cases/EAST-READ"),
                                 ("viewer_west", "reviewer", "/cases/WEST-READ")):
            readaudit.journal(conn, user=user, role=role, token_id=None, route="cases.get", method="GET",
                              raw_path=path, query=None, client_host=None)
    fe = store_file(runtime, media["h264_mp4"], unit_code=EAST)
    fw = store_file(runtime, media["jpg"], unit_code=WEST, media_kind="photo")
    access.ensure_access_recorded(runtime, Principal("viewer_east", "reviewer", EAST), "view",
                                  purpose="east purpose", file=fe)
    access.ensure_access_recorded(runtime, Principal("viewer_west", "reviewer", WEST), "view",
                                  purpose="west purpose", file=fw)
    # a north reviewer views the west clip: an outside-unit access, West's (and North's) business, not East's
    access.ensure_access_recorded(runtime, Principal("viewer_north", "reviewer", NORTH), "view",
                                  purpose="north purpose", file=fw)

    def page(user: str) -> str:
        web.cookies.clear()
        assert login(web, user).status_code == 303
        r = web.get("/ui/oversight")
        assert r.status_code == 200, r.text
        return r.text

    east = page("sup_east")
    assert "east purpose" in east and "/cases/EAST-READ" in east
    assert "west purpose" not in east and "/cases/WEST-READ" not in east and "viewer_north" not in east
    west = page("sup_west")
    assert "west purpose" in west and "/cases/WEST-READ" in west and "north purpose" in west
    assert "east purpose" not in west and "/cases/EAST-READ" not in west
    assert west.count("viewer_north") >= 2  # its access row and the unusual (outside-unit) flag
