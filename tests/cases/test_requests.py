"""cases/requests.py: a case-scoped download approval covers the clips linked when it was approved, no more."""

from __future__ import annotations

import pytest

from liuhen.cases import access
from liuhen.cases import service as cases
from liuhen.cases.errors import ApprovalRequired
from liuhen.cases.principal import Principal
from tests.api.helpers import store_file
from tests.cases.helpers import SUP, events, new_case


def test_case_download_approval_does_not_widen(runtime, media):
    a = store_file(runtime, media["h264_mp4"])
    b = store_file(runtime, media["h264_mp4_b"])
    new_case(runtime, "AP-1")
    cases.link_clip(runtime, "AP-1", a["sha256"], stage="filing", actor="clerk1")
    rev = Principal("rev", "reviewer", "U1")
    req = access.create_request(runtime, rev, kind="download", purpose="行政诉讼", case_no="AP-1")
    approved = access.decide(runtime, req["id"], SUP, approve=True)
    assert approved["file_sha256"] == [a["sha256"]]
    cases.link_clip(runtime, "AP-1", b["sha256"], stage="filing", actor="clerk1")  # linked after approval
    access.require_approved(runtime, req["id"], rev, kind="download", sha256=a["sha256"])
    with pytest.raises(ApprovalRequired, match="does not cover"):
        access.require_approved(runtime, req["id"], rev, kind="download", sha256=b["sha256"])
    (ap,) = events(runtime, "access.approval")
    assert ap["data"]["files"] == [a["sha256"]]
