"""cases/activities.py: recording-list changes are audited in the same transaction, or refused."""

from __future__ import annotations

import pytest

from liuhen.cases import activities
from liuhen.integrity import events as integrity_events
from liuhen.integrity.events import EVENT_TYPES
from tests.api.conftest import bearer
from tests.cases.helpers import events


def _register(monkeypatch: pytest.MonkeyPatch, registered: bool) -> None:

    types = set(EVENT_TYPES) | {"recording_list.change"} if registered else set(EVENT_TYPES) - {"recording_list.change"}
    monkeypatch.setattr(integrity_events, "EVENT_TYPES", frozenset(types))
    monkeypatch.setattr(activities, "EVENT_TYPES", frozenset(types))


def test_recording_list_change_is_audited(runtime, client, tokens, monkeypatch):
    _register(monkeypatch, True)
    item = {"kind": "seizure", "recording": "av_as_needed", "label": "查封扣押"}
    r = client.put("/recording-list", headers=bearer(tokens["admin"]), json=item)
    assert r.status_code == 200, r.text
    now = runtime.catalog.one("SELECT recording FROM recording_list WHERE kind = 'seizure'")
    assert now["recording"] == "av_as_needed"
    (ev,) = events(runtime, "recording_list.change")
    assert ev["actor"] == "admin" and ev["data"]["before"] == {"recording": "full_av", "label": "查封扣押"}
    assert ev["data"]["recording"] == "av_as_needed"


def test_recording_list_change_is_refused_while_it_cannot_be_audited(runtime, client, tokens, monkeypatch):
    _register(monkeypatch, False)
    item = {"kind": "seizure", "recording": "text", "label": "查封扣押"}
    r = client.put("/recording-list", headers=bearer(tokens["admin"]), json=item)
    assert r.status_code == 409 and "unaudited" in r.json()["detail"], r.text
    now = runtime.catalog.one("SELECT recording FROM recording_list WHERE kind = 'seizure'")
    assert now["recording"] == "full_av"
