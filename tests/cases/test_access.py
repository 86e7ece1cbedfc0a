"""cases/access.py: access requests (item 7: the external role cannot probe what exists)."""

from __future__ import annotations

from tests.api.conftest import bearer
from tests.api.helpers import store_file

UNKNOWN = "ab" * 32


def test_external_gets_the_same_answer_for_real_and_unknown_objects(runtime, client, tokens, media) -> None:
    f = store_file(runtime, media["h264_mp4"])
    client.post("/cases", headers=bearer(tokens["clerk"]),
                json={"case_no": "罚〔2024〕9号", "agency": "a", "subject": "s", "case_type": "penalty"})
    ext = bearer(tokens["external"])
    answers = []
    for body in ({"files": [f["sha256"]]}, {"files": [UNKNOWN]}, {"case_no": "罚〔2024〕9号"}, {"case_no": "无此案"}):
        r = client.post("/access/requests", headers=ext, json={"kind": "download", "purpose": "律师阅卷", **body})
        answers.append((r.status_code, sorted(r.json())))
    assert len(set(map(str, answers))) == 1 and answers[0][0] == 201
    # staff who may see the catalog still get a clear 404
    r = client.post("/access/requests", headers=bearer(tokens["reviewer"]),
                    json={"kind": "download", "purpose": "复核", "files": [UNKNOWN]})
    assert r.status_code == 404
