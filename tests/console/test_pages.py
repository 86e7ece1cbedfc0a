"""Every console page × every role against the one table (liuhen.api.roles), and the external recipient's bags."""

from __future__ import annotations

import io
import zipfile

from fastapi.testclient import TestClient

from liuhen.api.roles import CONSOLE_PAGES, allowed
from liuhen.cases import access
from liuhen.cases import service as cases
from liuhen.cases.principal import Principal
from liuhen.ingest.offload import ingest_path
from tests.console.conftest import ROLES, login
from tests.ingest._ingest_helpers import make_recorder

# Every GET page; the ones needing an object use the ``scene`` fixture's case, activity and file.
PAGES = {
    "console.home": "/ui/", "console.password": "/ui/password", "console.dock": "/ui/dock",
    "console.dock_state": "/ui/dock/state", "console.cases": "/ui/cases", "console.case": "/ui/cases/SC-1",
    "console.search": "/ui/files", "console.file": "/ui/files/{a}", "console.play": "/ui/files/{a}/play",
    "console.multicam": "/ui/cases/SC-1/activities/{act}/multicam", "console.requests": "/ui/requests",
    "console.inbox": "/ui/inbox", "console.bags": "/ui/bags", "console.oversight": "/ui/oversight",
    "console.admin": "/ui/admin", "console.audit": "/ui/audit",
}


def test_every_page_for_every_role(web: TestClient, users, scene, runtime) -> None:  # type: ignore[no-untyped-def]
    assert set(PAGES) <= set(CONSOLE_PAGES)
    checked = 0
    for role in ROLES:
        web.cookies.clear()
        assert login(web, users[role]).status_code == 303
        for name, path in PAGES.items():
            url = path.format(a=scene["a"]["sha256"], act=scene["activity"]["id"])
            r = web.get(url, follow_redirects=False)
            assert r.status_code == (200 if allowed(name, role) else 403), (role, name, r.status_code)
            assert r.headers["cache-control"] == "no-store"
            checked += 1
        journal = runtime.catalog.one("SELECT count(*) AS n FROM read_journal WHERE user_name = %s", (users[role],))
        assert journal["n"] >= sum(allowed(n, role) for n in PAGES)  # every allowed page view is journalled
    assert checked == len(PAGES) * len(ROLES)


def test_external_recipient_gets_only_their_approved_bags(web: TestClient, users, runtime, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ext = Principal(users["external"], "external", "U1", None, None)
    other = Principal(users["reviewer"], "reviewer", "U1", None, None)
    sup = Principal(users["supervisor"], "supervisor", "U1", None, None)
    # a case with one really ingested original (the scene's footage has no ingestion event, so cannot be exported)
    make_recorder(tmp_path / "dock" / "port01", "SN0001", "110101", n=1, size=20_000)
    ingest_path(runtime, tmp_path / "dock", actor="test:clerk")
    cases.create_case(runtime, case_no="EX-1", agency="A", subject="移送", case_type="penalty", actor="t")
    sha = runtime.catalog.one("SELECT sha256 FROM files WHERE ingest_event_id IS NOT NULL")["sha256"]
    cases.link_clip(runtime, "EX-1", sha, stage="filing", actor="t")
    mine = access.create_request(runtime, ext, kind="export", purpose="法院调取", case_no="EX-1", files=[])
    pending = access.create_request(runtime, ext, kind="export", purpose="再次调取", case_no="EX-1", files=[])
    theirs = access.create_request(runtime, other, kind="export", purpose="内部", case_no="EX-1", files=[])
    for req in (mine, theirs):
        access.decide(runtime, req["id"], sup, approve=True, note=None)
    login(web, users["external"])
    page = web.get("/ui/bags")
    assert page.status_code == 200
    assert f"/ui/bags/{mine['id']}/download" in page.text
    assert f"/bags/{pending['id']}/" not in page.text and f"/bags/{theirs['id']}/" not in page.text
    for rid in (pending["id"], theirs["id"]):
        assert web.get(f"/ui/bags/{rid}/download").status_code in (403, 404, 428)
    r = web.get(f"/ui/bags/{mine['id']}/download")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip", r.text[-2000:]
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert any(n.endswith("bagit.txt") for n in names) and any(n.endswith("manifest-sha256.txt") for n in names)
    ev = runtime.catalog.all("SELECT * FROM access_events WHERE kind = 'export' AND user_name = %s",
                             (users["external"],))
    assert ev and all(e["request_id"] == mine["id"] for e in ev)
