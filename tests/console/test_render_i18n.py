"""Every page × every role rendered in zh_CN (the default) must show no known English key: severities, finding
kinds, activity kinds, stages, roles, case types, publication states, event types, and the report's English
messages. Text inside <code>, <pre>, <script> and elements marked lang="en" (technical detail) is exempt; so are
digests and identifiers. The same pages in English must not show Chinese catalog words either."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import liuhen.wiring  # noqa: F401  (registers the publication hook: 决定 opens the 公示 record)
from liuhen.api.roles import allowed
from liuhen.cases import service as cases
from liuhen.console import findings, labels
from liuhen.ingest.offload import ingest_path
from liuhen.integrity import checkpoint
from liuhen.integrity import log as audit_log
from tests.console.conftest import ROLES, login
from tests.console.test_pages import PAGES
from tests.ingest.helpers import make_recorder

EXEMPT = {"code", "pre", "script", "style", "title", "svg"}
KEYS = {
    *findings.SEVERITY_LABELS, *findings.FINDING_LABELS, *labels.ACTIVITY_LABELS, *labels.STAGE_LABELS,
    *labels.ROLE_LABELS, *labels.CASE_TYPES, *labels.PUBLICATION_STATES, *labels.EVENT_LABELS,
    *labels.RECORDING_LABELS, "PROVISIONAL", "pending", "approved", "rejected", "download", "export", "stream",
    "view", "video", "none",
}
PHRASES = ("no footage covers", "requires full AV", "stored ", "device clock", "not listed on", "Export failed",
           "Not Found", "Forbidden", "Purpose required")


class Visible(HTMLParser):
    """The text a person reads, minus exempt elements (and the <title>, checked separately)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("input", "img", "br", "meta", "link", "rect"):
            return
        self.stack.append(tag in EXEMPT or ("lang", "en") in attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("input", "img", "br", "meta", "link", "rect") and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not any(self.stack):
            self.out.append(data)


def visible(html: str) -> str:
    p = Visible()
    p.feed(html)
    return " ".join(" ".join(p.out).split())


def leaks(text: str) -> list[str]:
    words = set(re.findall(r"[A-Za-z_][A-Za-z_.]*[A-Za-z]", text))
    return sorted(words & KEYS) + [p for p in PHRASES if p in text]


def _world(runtime: Any, scene: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    """The scene plus a real offload (a receipt), a case in 决定 (its publication record) and a checkpoint."""
    make_recorder(tmp_path / "dock" / "port01", "SN0001", "110101", n=1, size=20_000)
    ingest_path(runtime, tmp_path / "dock", actor="u_clerk")
    cases.create_case(runtime, case_no="PB-1", agency="A", subject="公示", case_type="penalty", actor="t")
    for st in ("investigation", "review", "decision"):
        cases.advance_stage(runtime, "PB-1", st, "t")
    cases.add_activity(runtime, "SC-1", stage="investigation", kind="seizure",
                       starts_at=scene["activity"]["starts_at"], ends_at=scene["activity"]["starts_at"]
                       + timedelta(seconds=5), actor="t")
    audit_log.sequence(runtime.catalog)
    checkpoint.publish(runtime.catalog, runtime.settings, force=True)
    sid = runtime.catalog.one("SELECT id FROM ingest_sessions ORDER BY id LIMIT 1")["id"]
    return {"receipt": f"/ui/dock/receipts/{sid}"}


def test_no_english_keys_leak_into_chinese_pages(web, users, scene, runtime, tmp_path) -> None:  # type: ignore[no-untyped-def]
    extra = _world(runtime, scene, tmp_path)
    pages = {**PAGES, "console.case_pb": "/ui/cases/PB-1", "console.audit_proof": "/ui/audit?index=0",
             "console.receipt": extra["receipt"], "console.supervision": "/ui/supervision",
             "console.error": "/ui/files/" + "0" * 64}
    seen = 0
    for role in ROLES:
        web.cookies.clear()
        assert login(web, users[role]).status_code == 303
        for name, path in pages.items():
            url = path.format(a=scene["a"]["sha256"], act=scene["activity"]["id"])
            r = web.get(url, follow_redirects=False)
            if r.status_code == 303 or "json" in r.headers.get("content-type", ""):
                continue
            text = visible(r.text)
            assert not leaks(text), (role, url, leaks(text), text[:3000])
            title = r.text.split("<title>", 1)[1].split("</title>", 1)[0]
            assert not title.startswith(" ·") and not leaks(title), (role, url, title)
            seen += 1 if r.status_code == 200 and allowed(name.replace("_pb", "").replace("_proof", ""), role) else 0
    assert seen >= 40  # the pages really rendered (not only error pages)


def test_chinese_words_do_not_leak_into_english_pages(web, users, scene, runtime, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _world(runtime, scene, tmp_path)
    assert login(web, users["supervisor"]).status_code == 303
    for path in ("/ui/cases/SC-1?lang=en", "/ui/cases/PB-1?lang=en", "/ui/supervision?lang=en",
                 "/ui/audit?index=0&lang=en", "/ui/files?lang=en"):
        text = visible(web.get(path).text)
        # 简体中文 is the language switch; case subjects are data (现场执法, 公示)
        han = set(re.findall(r"[\u4e00-\u9fff]+", text)) - {"简体中文", "现场执法", "公示"}
        assert not han, (path, han)
