"""Known answers for the completeness findings as shown: translated severity/kind/details, and a headline that
never says 'complete' while a warning is listed. Expected strings are the zh_CN catalog's translations with the
finding's numbers put in by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from liuhen.console import findings, i18n, timefmt

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Asia/Shanghai
ZH = i18n.gettext_for("zh_CN")
EN = i18n.gettext_for("en")


def when(t: datetime | None) -> str:
    return timefmt.local(t, ZoneInfo("Asia/Shanghai"))


GAP = {"kind": "coverage_gap", "severity": "warning", "activity_id": 1, "activity_kind": "onsite_inspection",
       "starts_at": T0 + timedelta(seconds=23), "ends_at": T0 + timedelta(seconds=40), "seconds": 17.0,
       "message": "no footage covers 17 s of onsite_inspection"}
LATE = {"kind": "late_upload", "severity": "warning", "sha256": "a" * 64,
        "message": "stored 30.5 h after recording (limit 24 h)"}
MISSING = {"kind": "missing_av", "severity": "error", "activity_id": 2, "activity_kind": "custom_kind",
           "message": "custom_kind requires full AV recording (全程音像记录); no footage linked"}


def test_rows_are_translated_from_fields_not_the_english_message() -> None:
    rows = findings.rows({"findings": [GAP, LATE, MISSING]}, ZH, when, {"custom_kind": "自定义事项"})
    assert [(r.severity, r.severity_label, r.kind_label) for r in rows] == [
        ("warning", "警告", "覆盖缺口"), ("warning", "警告", "超时上传"), ("error", "错误", "缺少全程音像记录")]
    # 23 s .. 40 s after 10:00:00 CST; the seeded kind through the catalog, the admin's kind by its list label
    assert rows[0].details == "现场检查 有 17 秒无音视频覆盖（2026-11-23 10:00:23 – 2026-11-23 10:00:40）。"
    assert rows[1].details == "录制后 30.5 小时才存储（时限 24 小时）。"
    assert rows[2].details == "自定义事项 要求全程音像记录，但未关联任何音视频。"
    en = findings.rows({"findings": [GAP]}, EN, when, {})
    assert en[0].details == ("No footage covers 17 s of On-site inspection "
                             "(2026-11-23 10:00:23 – 2026-11-23 10:00:40).")


def test_unparseable_message_falls_back_to_the_report_text() -> None:
    odd = {**LATE, "message": "stored late (wording changed)"}
    assert findings.details(odd, ZH, when, {}) == "stored late (wording changed)"


def test_headline_matches_the_findings() -> None:
    # a coverage gap of an 'as circumstances require' activity is a warning: the JSON says complete (no error),
    # the page must not say plainly 完整
    assert findings.headline({"findings": [GAP]}, ZH) == ("warnings", "无错误，但有 1 个警告需核查")
    assert findings.headline({"findings": [GAP, MISSING]}, ZH) == ("incomplete", "不完整：1 个错误，1 个警告")
    assert findings.headline({"findings": []}, ZH) == ("complete", "完整：无问题")
    assert findings.headline({"findings": [{"kind": "no_av", "severity": "info"}]}, EN) == (
        "complete", "Complete: 1 note(s)")
