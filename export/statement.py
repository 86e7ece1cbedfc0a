"""The human-facing parts of an evidence bag: the AV-evidence statement, the HTML index, README.txt.

The statement answers what the rules on audio-visual evidence (行政诉讼证据规定) ask of each item:
its production method, production time, producer and what it is offered to prove
(制作方法、制作时间、制作人、证明对象), plus the case stage and activity it belongs to.
Everything here is pure: the document from plain rows, the renderings from the document. The JSON keeps
UTC (a machine format the verifier checks); the HTML and README show times as people read them, in the
agency's zone with its offset (``liuhen.core.timefmt.local``, ``Settings.display_tz``).
"""

from __future__ import annotations

import html
import json
from datetime import datetime, timedelta
from typing import Any

from liuhen.catalog.stages import STAGE_LABELS
from liuhen.core.timefmt import DEFAULT_ZONE, local
from liuhen.export.build import iso, parse_time

KIND_LABELS = {"video": "视频", "audio": "音频", "photo": "照片", "unknown": "文件"}
METHOD = {
    "video": ("执法记录仪现场同步录音录像", "recorded on scene by a body-worn recorder (audio and video)"),
    "audio": ("执法记录仪现场录音", "audio recorded on scene by a body-worn recorder"),
    "photo": ("执法记录仪现场拍照", "photograph taken on scene by a body-worn recorder"),
    "unknown": ("执法记录仪现场采集", "captured on scene by a body-worn recorder"),
}


def production_method(kind: str, device: str | None, ingested_at: str, sha256: str) -> dict[str, str]:
    zh, en = METHOD.get(kind, METHOD["unknown"])
    dev = device or "未登记 / unregistered"
    return {
        "zh": f"{zh}（设备编号 {dev}）；原始文件于 {ingested_at} 自记录仪逐字节复制入库，"
        f"入库时计算并核对 SHA-256 {sha256}，此后以该摘要寻址、不可修改、不可删除；本件为该原始文件的逐字节副本。",
        "en": f"{en} (device {dev}); the original file was copied bit-for-bit from the recorder at ingest "
        f"({ingested_at}), its SHA-256 {sha256} computed and verified then, and it has been stored "
        "write-once under that digest since; this file is a byte-for-byte copy of that original.",
    }


def statement_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=False, default=str) + "\n"


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def _t(v: Any, zone: str) -> str:
    """A UTC ISO time from the document, as people read it in ``zone`` (other values unchanged)."""
    if not isinstance(v, str) or not v:
        return "" if v is None else str(v)
    try:
        return local(datetime.fromisoformat(v.replace("Z", "+00:00")), zone)
    except ValueError:
        return v


_CSS = (
    "body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;margin:2em;color:#111}"
    "table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:4px 6px;"
    "vertical-align:top;font-size:13px}th{background:#eee;text-align:left}code{font-size:11px;"
    "word-break:break-all}img{max-width:200px}.d{color:#555;font-size:12px}"
)


def _head(title: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{_e(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n")


def _case_block(doc: dict[str, Any], zone: str) -> str:
    c, e = doc["case"], doc["export"]
    sel = e["selection"]
    scope = "全部 / whole case" if not any(sel.values()) else _e(json.dumps(sel, ensure_ascii=False))
    return (
        f"<p>案号 Case: <b>{_e(c['case_no'])}</b> · 机关 Agency: {_e(c['agency'])} · "
        f"案由 Subject: {_e(c['subject'])} · 当前阶段 Stage: {_e(STAGE_LABELS.get(c['stage'], c['stage']))}</p>"
        f"<p class=d>导出时间 Exported {_e(_t(e['time'], zone))} by {_e(e['exporter'])} · 范围 Scope: {scope} · "
        f"日志 Audit log: events up to index {_e(e['log_size'])}</p>\n"
    )


def statement_html(doc: dict[str, Any], zone: str = DEFAULT_ZONE) -> str:
    """视听资料说明 — one row per item with the four required particulars."""
    rows = []
    for it in doc["items"]:
        p, t = it["producer"], it["production_time"]
        links = "<br>".join(
            f"{_e(STAGE_LABELS.get(lk['stage'], lk['stage']))}"
            + (f" · {_e(lk['activity']['kind_label'] or lk['activity']['kind'])} {_e(lk['activity']['place'])}"
               if lk.get("activity") else "")
            + (f" · {_e(lk['t_start_s'])}–{_e(lk['t_end_s'])} s" if lk.get("t_start_s") is not None else "")
            for lk in it["links"]
        )
        rows.append(
            f"<tr><td>{it['item']}</td><td><code>{_e(it['path'])}</code><br>"
            f"<span class=d>{_e(KIND_LABELS.get(it['media_kind'], it['media_kind']))} · {_e(it['size'])} bytes"
            f"</span><br><code>SHA-256 {_e(it['sha256'])}</code></td>"
            f"<td>{_e(it['production_method']['zh'])}<br><span class=d>{_e(it['production_method']['en'])}</span></td>"
            f"<td>{_e(_t(t['start'], zone))}<br>至 {_e(_t(t['end'], zone))}<br>"
            f"<span class=d>{_e(t['duration_s'])} s</span></td>"
            f"<td>{_e(p['officer_name'])} ({_e(p['officer_no'])})<br>{_e(p['unit_code'])}<br>"
            f"设备 {_e(p['device_serial'])}</td>"
            f"<td>{'<br>'.join(_e(x) for x in it['proves']) or '—'}</td><td>{links}</td></tr>"
        )
    return (
        _head(f"视听资料说明 {doc['case']['case_no']}")
        + "<h1>视听资料说明 / Statement on audio-visual evidence</h1>\n"
        + _case_block(doc, zone)
        + "<table><tr><th>序号</th><th>文件 File</th><th>制作方法 Production method</th>"
        "<th>制作时间 Production time</th><th>制作人 Producer (officer, device)</th>"
        "<th>证明对象 Offered to prove</th><th>案件阶段、执法活动 Stage, activity</th></tr>\n"
        + "\n".join(rows)
        + "\n</table>\n<p class=d>依据《最高人民法院关于行政诉讼证据若干问题的规定》第十二条，视听资料应注明制作方法、"
        "制作时间、制作人和证明对象等。每个文件的完整性可用本包内 verify.py 或 sha256sum 独立核验"
        "（见 README.txt）。</p>"
        "\n</body></html>\n"
    )


def index_html(doc: dict[str, Any], zone: str = DEFAULT_ZONE) -> str:
    """A readable overview with thumbnails, linking every file in the bag."""
    cards = []
    for it in doc["items"]:
        thumb = next((d["path"] for d in it["derived"] if d["kind"] == "thumbnail"), None)
        img = f'<img src="{_e(thumb)}" alt="thumbnail">' if thumb else "<span class=d>无缩略图 no thumbnail</span>"
        der = "<br>".join(f'<a href="{_e(d["path"])}">{_e(d["kind"])}</a> <span class=d>(derived 派生)</span>'
                          for d in it["derived"])
        cards.append(
            f"<tr><td>{it['item']}</td><td>{img}</td><td><a href=\"{_e(it['path'])}\">{_e(it['original_name'])}"
            f"</a><br><span class=d>原始文件 original · {_e(_t(it['production_time']['start'], zone))} · "
            f"{_e(it['producer']['officer_name'])} · {_e(it['producer']['device_serial'])}</span><br>"
            f"<code>{_e(it['sha256'])}</code></td><td>{'<br>'.join(_e(x) for x in it['proves']) or '—'}</td>"
            f"<td>{der or '—'}</td></tr>"
        )
    evs = "".join(
        f"<tr><td>{e['idx']}</td><td>{_e(_t(e['time'], zone))}</td><td>{_e(e['premis_event_type'])}</td>"
        f"<td>{_e(e['type'])}</td><td>{_e(e['actor'])}</td></tr>"
        for e in doc["custody"]["events"]
    )
    return (
        _head(f"证据包 {doc['case']['case_no']}")
        + f"<h1>执法音视频证据包 / Evidence package {_e(doc['case']['case_no'])}</h1>\n"
        + _case_block(doc, zone)
        + "<p>核验 Verify: <code>python3 verify.py .</code> — 或见 see <a href=\"README.txt\">README.txt</a>; "
        "说明 statement: <a href=\"statement.html\">statement.html</a></p>\n"
        "<h2>证据文件 Items</h2><table><tr><th>#</th><th>缩略图</th><th>原始文件 Original</th>"
        "<th>证明对象 Proves</th><th>派生文件 Derived (not evidence originals)</th></tr>\n"
        + "\n".join(cards)
        + "</table>\n<h2>保管链 Chain of custody</h2><p class=d>custody/events.jsonl — each event proven in the "
        "signed audit log (custody/proofs/, custody/checkpoint).</p><table><tr><th>log index</th><th>time</th>"
        "<th>PREMIS event</th><th>type</th><th>actor</th></tr>\n"
        + evs
        + "</table>\n</body></html>\n"
    )


def readme_txt(doc: dict[str, Any], algos: tuple[str, ...], zone: str = DEFAULT_ZONE) -> str:
    c, e = doc["case"], doc["export"]
    sm3 = ""
    if "sm3" in algos:
        sm3 = ("\n  SM3 manifests (manifest-sm3.txt, tagmanifest-sm3.txt) are included too; check them with a\n"
               "  GM/T 0004 tool, e.g. `gmssl sm3` per file, or verify.py on a Python whose hashlib has sm3.\n")
    return f"""LIUHEN EVIDENCE PACKAGE — 执法音视频证据包
Case 案号: {c['case_no']}    Agency 机关: {c['agency']}
Exported 导出: {_t(e['time'], zone)} by {e['exporter']}    Audit-log events up to index: {e['log_size']}

This is a BagIt bag (RFC 8493). Layout:
  data/originals/     the original recordings, byte-for-byte as ingested (the evidence)
  data/derived/       proxies and thumbnails made from them (for viewing only; NOT originals)
  manifest-sha256.txt        SHA-256 of every file under data/
  tagmanifest-sha256.txt     SHA-256 of every other file (this README, statement, custody record...)
  bag-info.txt        case number, agency, export time, exporter, Payload-Oxum
  statement.json/.html  制作方法、制作时间、制作人、证明对象 for every item
  index.html          readable overview with thumbnails
  custody/events.jsonl         audit-log events for these items (exact log leaf bytes, one per line)
  custody/events-index.json    log index and PREMIS event type of each line
  custody/export-manifest.json the export's "manifest" audit event: the SHA-256 of events.jsonl, the
                               list of exported log indices, the digests of the payload manifests,
                               statement and derivation records, and the previous checkpoint's size
  custody/export-manifest.tlog-proof  its proof in the signed log
  custody/proofs/N.tlog-proof  C2SP tlog-proof: event N is in the signed log
  custody/checkpoint           the signed log checkpoint (C2SP tlog-checkpoint, Ed25519 signed note)
  custody/consistency          proof that the previously published checkpoint is a prefix of it
  custody/log-key.pub          the log's verifier key(s)
  custody/derivations.json     how each derived file was made (original digest, exact ffmpeg argv, versions)
  verify.py                    a verifier that needs only Python 3.9+ and its standard library

HOW TO VERIFY (either way; both need nothing but this folder):

1. With Python:   python3 verify.py .
   It checks every manifest entry and the tag manifest, the checkpoint's Ed25519 signature, every
   event's inclusion proof, the consistency proof, that the export's manifest event (itself proven
   in the log) names exactly these events, manifests and statement — so nothing can be dropped or
   rewritten — that every original's SHA-256 was recorded in the log at ingest, that each item's
   producer and production time in statement.json are those of its ingestion event, and that each
   derived file's record matches its proven derivation event. It ends with "VERDICT: VALID" and
   exit status 0 only if everything holds; otherwise it names each file or record that failed,
   with the expected and computed values.
   Pin the agency's published log key instead of trusting the copy in this folder:
       python3 verify.py . --trusted-key '<key published by the agency>'
   (verify.py is itself listed in tagmanifest-sha256.txt; you may also use your own copy of it.)

2. By hand with coreutils, from inside this folder:
       sha256sum -c tagmanifest-sha256.txt     # every tag file, including manifest-sha256.txt
       sha256sum -c manifest-sha256.txt        # every payload file
   Both must print OK for every line. Then compare the number of files and bytes under data/ with
   Payload-Oxum in bag-info.txt (bytes.files), and look up each original's SHA-256 in
   custody/events.jsonl (its "ingestion" event).{sm3}
The SHA-256 of tagmanifest-sha256.txt is recorded in the agency's audit log as the "export" event of
this package; ask the agency for that log entry to confirm this is the package it issued.
"""


def statement_doc(case: dict[str, Any], files: list[dict[str, Any]], links: dict[int, list[dict[str, Any]]],
                  derived: dict[str, list[dict[str, str]]], paths: dict[str, str],
                  ingest: dict[str, tuple[int, dict[str, Any]]], people: dict[Any, dict[str, Any]],
                  ev_index: list[dict[str, Any]], export: dict[str, Any], zone: str = DEFAULT_ZONE) -> dict[str, Any]:
    """The statement document. Producer, production time, size and digests come from each original's
    ingestion event (the leaf in the bag); only names, firmware and duration are catalog annotations.
    ``export`` holds time, exporter, selection, request_id, log_size and log_origin. Times are UTC ISO
    8601, except inside ``production_method``'s prose, which people read (``zone``, with its offset)."""
    items = [_item(n, f, links.get(int(f["id"]), []), derived.get(f["sha256"], []), paths[f["sha256"]],
                   ingest[f["sha256"]], people, zone) for n, f in enumerate(files, 1)]
    return {
        "format": "liuhen.statement@v2",
        "basis": "最高人民法院关于行政诉讼证据若干问题的规定 第十二条："
                 "视听资料应注明制作方法、制作时间、制作人和证明对象",
        "sources": "producer (officer_no, device_serial, unit_code), production_time.start, size, sm3 and "
                   "ingestion are taken from each original's ingestion event (custody/events.jsonl line at "
                   "ingestion.log_index) and checked by verify.py; officer_name, device_firmware and "
                   "duration_s are catalog annotations",
        "case": {"case_no": case["case_no"], "agency": case["agency"], "unit_code": case["unit_code"],
                 "subject": case["subject"], "case_type": case["case_type"], "major": case["major"],
                 "stage": case["stage"], "created_at": iso(case["created_at"])},
        "export": export,
        "items": items,
        "custody": {"events": ev_index},
    }



def _link(lk: dict[str, Any]) -> dict[str, Any]:
    act = None
    if lk.get("activity_id"):
        act = {"id": lk["activity_id"], "kind": lk["a_kind"], "kind_label": lk.get("a_label"),
               "starts_at": iso(lk["a_starts"]), "ends_at": iso(lk["a_ends"]), "place": lk["a_place"],
               "officers": lk["a_officers"], "note": lk["a_note"]}
    return {"link_id": lk["id"], "stage": lk["stage"], "stage_label": STAGE_LABELS.get(lk["stage"]),
            "activity": act, "t_start_s": lk["t_start_s"], "t_end_s": lk["t_end_s"],
            "proves": lk["proves"], "linked_by": lk["linked_by"], "linked_at": iso(lk["linked_at"])}


def _item(n: int, f: dict[str, Any], links: list[dict[str, Any]], derived: list[dict[str, str]], path: str,
          ingestion: tuple[int, dict[str, Any]], people: dict[Any, dict[str, Any]], zone: str) -> dict[str, Any]:
    idx, leaf = ingestion
    facts = leaf.get("data") or {}
    device, officer_no = facts.get("device_serial"), facts.get("officer_no")
    ppl = people.get((device, officer_no)) or {}
    start = parse_time(facts.get("recorded_at"))
    end = start + timedelta(seconds=f["duration_s"]) if start and f["duration_s"] else start
    ingested_at = iso(parse_time(leaf.get("time")))
    lks = [_link(lk) for lk in links]
    return {
        "item": n,
        "path": path,
        "original_name": f["original_name"],
        "sha256": f["sha256"],
        "sm3": facts.get("sm3", f["sm3"]),
        "size": facts.get("size", f["size"]),
        "media_kind": f["media_kind"],
        "media_kind_label": KIND_LABELS.get(f["media_kind"]),
        "production_method": production_method(f["media_kind"], device, _t(ingested_at, zone), f["sha256"]),
        "production_time": {"start": iso(start), "end": iso(end), "duration_s": f["duration_s"]},
        "producer": {"officer_no": officer_no, "officer_name": ppl.get("officer_name"),
                     "unit_code": facts.get("unit_code") or ppl.get("unit_code"), "device_serial": device,
                     "device_firmware": ppl.get("firmware")},
        "proves": [lk["proves"] for lk in lks if lk["proves"]],
        "links": lks,
        "ingestion": {"ingested_at": ingested_at, "log_index": idx},
        "derived": derived,
    }
