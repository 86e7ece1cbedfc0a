"""``storage check`` reports per forbidden operation refused/ALLOWED, on every backend (禁删改).

Expected ALLOWED sets are per backend: moto's server accepts shortening, COMPLIANCE→GOVERNANCE,
suspending versioning and past retain-until dates (so the check must say ALLOWED there — a test
that the check works); a local directory cannot stop root/the owner; Ceph RGW refuses everything.
"""

from __future__ import annotations

import pytest

from liuhen.core.config import Settings
from liuhen.storage.base import ObjectStore
from liuhen.storage.check import ensure_conformant, run_check
from liuhen.storage.errors import NonConformantStore
from liuhen.storage.probe import ALLOWED, NA, OPS, REFUSED

pytestmark = pytest.mark.timeout(180)

API_OPS = ("overwrite", "delete_locked_version", "shorten_compliance_retention", "retain_until_in_past")
EXPECTED_BACKEND_ALLOWED = {
    "memory": set(),
    "local": {"overwrite", "delete_locked_version", "shorten_compliance_retention"},
    "s3-moto": {
        "shorten_compliance_retention",
        "switch_compliance_to_governance",
        "suspend_versioning",
        "retain_until_in_past",
    },
    "s3-rgw": set(),
}


def backend(request: pytest.FixtureRequest) -> str:
    return str(request.node.callspec.params["store"])


def test_check_reports_each_forbidden_op(store: ObjectStore, request: pytest.FixtureRequest) -> None:
    kind = backend(request)
    report = run_check(store)
    # the store API refuses every forbidden operation on every backend
    for op in API_OPS:
        assert report.outcome(op, "store api") == REFUSED, (op, report.to_dict())
    allowed = {r.op for r in report.results if r.level == "backend" and r.outcome == ALLOWED}
    assert allowed == EXPECTED_BACKEND_ALLOWED[kind], report.to_dict()
    if kind.startswith("s3"):
        assert {r.op for r in report.results if r.level == "backend"} == set(OPS)
        assert all(r.outcome in (REFUSED, ALLOWED) for r in report.results), report.to_dict()
    if kind == "local":
        assert report.outcome("suspend_versioning", "backend") == NA
    assert report.conformant == (not allowed)
    assert report.to_dict()["conformant"] == report.conformant


@pytest.mark.slow  # ~20 s: two full checks against a moto server
@pytest.mark.parametrize("store", ["s3-moto"], indirect=True)
def test_moto_is_refused_in_production_and_override_says_why(
    store: ObjectStore, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    prod = Settings(data_dir=tmp_path, production=True)
    with pytest.raises(NonConformantStore) as exc:
        ensure_conformant(store, prod)
    msg = str(exc.value)
    assert "shorten_compliance_retention" in msg and "switch_compliance_to_governance" in msg
    assert "LIUHEN_ALLOW_NONCONFORMANT_STORE" in msg
    over = Settings(data_dir=tmp_path, production=True, allow_nonconformant_store=True)
    report = ensure_conformant(store, over)
    assert report is not None and not report.conformant
    assert any("NOT write-once" in r.getMessage() for r in caplog.records)
    assert ensure_conformant(store, Settings(data_dir=tmp_path)) is None  # not production: no probe


@pytest.mark.parametrize("store", ["s3-rgw"], indirect=True)
def test_rgw_passes_and_production_starts(store: ObjectStore, tmp_path) -> None:
    """Ceph RGW: a real Object Lock implementation refuses every forbidden op."""
    report = ensure_conformant(store, Settings(data_dir=tmp_path, production=True))
    assert report is not None and report.conformant, report and report.to_dict()


@pytest.mark.parametrize("store", ["local", "memory"], indirect=True)
def test_local_and_memory_refused_in_production(store: ObjectStore, tmp_path) -> None:
    with pytest.raises(NonConformantStore):
        ensure_conformant(store, Settings(data_dir=tmp_path, production=True))
