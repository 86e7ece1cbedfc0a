"""S3 bucket policy per component (deploy/s3/bucket-policy.json.tmpl) applied on Ceph RGW.

Stations may put originals under COMPLIANCE retention (and HEAD them for the receipt); workers and API
nodes may only read; no component may delete an object or a version, shorten retention, lift a hold or
change the bucket's lock, versioning or policy. Needs RGW (``.ci/ceph-rgw.sh`` as root) and
``radosgw-admin`` to make one S3 user per component; skips saying why otherwise (moto does not evaluate
bucket policies per user, so it cannot stand in here).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from string import Template
from typing import Any

import pytest
from botocore.exceptions import ClientError

from liuhen.storage.s3 import S3Settings, S3Store, create_bucket_if_missing, make_client
from tests.storage.conftest import RGW_ENV, read_rgw_env

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "s3" / "bucket-policy.json.tmpl"
CEPH_CONF = RGW_ENV.parent / "ceph.conf"


def render(bucket: str, stations: list[str], readers: list[str], admins: list[str] | None = None) -> dict[str, Any]:
    """What ``envsubst`` does with the template (documented in docs/deployment.md)."""
    text = Template(TEMPLATE.read_text()).substitute(
        BUCKET=bucket,
        ADMIN_PRINCIPALS=json.dumps(admins or ["arn:aws:iam:::user/liuhen"]),
        STATION_PRINCIPALS=json.dumps(stations),
        READER_PRINCIPALS=json.dumps(readers),
        COMPONENT_PRINCIPALS=json.dumps(stations + readers),
    )
    return json.loads(text)


def test_template_renders_to_a_policy_naming_every_component() -> None:
    p = render("liuhen", ["arn:aws:iam:::user/st1"], ["arn:aws:iam:::user/api1"])
    deny = [s for s in p["Statement"] if s["Effect"] == "Deny"]
    assert any("s3:DeleteObjectVersion" in s["Action"] and "arn:aws:iam:::user/st1" in s["Principal"]["AWS"]
               for s in deny)
    assert any("s3:PutObject" in s["Action"] and s["Principal"]["AWS"] == ["arn:aws:iam:::user/api1"] for s in deny)


def _rgw_user(uid: str) -> tuple[str, str]:
    if not shutil.which("radosgw-admin") or not CEPH_CONF.exists():
        pytest.skip(f"radosgw-admin or {CEPH_CONF} missing: cannot create per-component S3 users")
    key, secret = f"{uid}-key", hashlib.sha256(uid.encode()).hexdigest()[:40]
    subprocess.run(
        ["radosgw-admin", "-c", str(CEPH_CONF), "-n", "client.rgw.a", "user", "create", "--uid", uid,
         "--display-name", uid, "--access-key", key, "--secret-key", secret],
        check=True, capture_output=True, timeout=60,
    )
    return key, secret


@pytest.fixture(scope="module")
def rgw() -> dict[str, Any]:
    env = read_rgw_env()
    tag = uuid.uuid4().hex[:8]
    users = {c: _rgw_user(f"lh-{c}-{tag}") for c in ("station", "worker", "api", "admin")}
    bucket = f"liuhen-policy-{tag}"
    owner = S3Settings(
        endpoint_url=env["LIUHEN_S3_ENDPOINT_URL"],
        bucket=bucket,
        access_key_id=env["AWS_ACCESS_KEY_ID"],
        secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    create_bucket_if_missing(owner)
    arn = {c: f"arn:aws:iam:::user/lh-{c}-{tag}" for c in users}
    policy = render(bucket, [arn["station"]], [arn["worker"], arn["api"]], [arn["admin"]])
    make_client(owner).put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    cfgs = {c: owner.model_copy(update={"access_key_id": k, "secret_access_key": s}) for c, (k, s) in users.items()}
    return {"owner": owner, "cfg": cfgs}


def _denied(call: Any, **kw: Any) -> None:
    with pytest.raises(ClientError) as ei:
        call(**kw)
    assert ei.value.response["Error"]["Code"] in ("AccessDenied", "InvalidRequest", "ObjectLocked"), ei.value.response


@pytest.fixture(scope="module")
def stored(rgw: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One original put by the station through the production S3Store."""
    src = tmp_path_factory.mktemp("s3p") / "clip.bin"
    data = uuid.uuid4().bytes * 1000
    src.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    until = datetime.now(UTC) + timedelta(days=181)
    info = S3Store(rgw["cfg"]["station"]).put(f"sha256/{sha}", src, sha256=sha, size=len(data), retain_until=until)
    return {"key": f"sha256/{sha}", "sha": sha, "version": info.version, "data": data}


def test_station_puts_under_compliance_and_can_verify_it(rgw: dict[str, Any], stored: dict[str, Any]) -> None:
    info = S3Store(rgw["cfg"]["station"]).head(stored["key"])
    assert info.sha256 == stored["sha"] and info.retention_mode == "COMPLIANCE"


@pytest.mark.parametrize("component", ["station", "worker", "api"])
def test_no_component_deletes_unlocks_or_reconfigures(
    rgw: dict[str, Any], stored: dict[str, Any], component: str
) -> None:
    s3, bucket, key = make_client(rgw["cfg"][component]), rgw["owner"].bucket, stored["key"]
    _denied(s3.delete_object, Bucket=bucket, Key=key)  # would add a delete marker, hiding the original
    _denied(s3.delete_object, Bucket=bucket, Key=key, VersionId=stored["version"])
    _denied(s3.put_object_retention, Bucket=bucket, Key=key, VersionId=stored["version"],
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": datetime.now(UTC) + timedelta(days=1)})
    _denied(s3.put_object_legal_hold, Bucket=bucket, Key=key, LegalHold={"Status": "OFF"})
    _denied(s3.put_bucket_policy, Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": []}))
    _denied(s3.delete_bucket_policy, Bucket=bucket)
    _denied(s3.put_bucket_versioning, Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    _denied(s3.put_object_lock_configuration, Bucket=bucket,
            ObjectLockConfiguration={"ObjectLockEnabled": "Enabled",
                                     "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    # the original is untouched: same version, still retained (checked as a reader: the object belongs to
    # the station that wrote it, and the policy lets readers see it)
    h = make_client(rgw["cfg"]["api"]).head_object(Bucket=bucket, Key=key)
    assert h["VersionId"] == stored["version"] and h["ObjectLockMode"] == "COMPLIANCE"


@pytest.mark.parametrize("component", ["worker", "api"])
def test_workers_and_api_nodes_only_read(rgw: dict[str, Any], stored: dict[str, Any], component: str) -> None:
    store = S3Store(rgw["cfg"][component])
    assert b"".join(store.get(stored["key"])) == stored["data"]
    s3 = make_client(rgw["cfg"][component])
    _denied(s3.put_object, Bucket=rgw["owner"].bucket, Key="sha256/" + "0" * 64, Body=b"forged")
    _denied(s3.put_object, Bucket=rgw["owner"].bucket, Key=stored["key"], Body=b"a new version over the original")


def test_admin_sets_holds_but_object_lock_still_refuses_deleting_a_retained_original(
    rgw: dict[str, Any], stored: dict[str, Any]
) -> None:
    """Disposal (I4) runs with the admin credential; before retention expires the store itself refuses it."""
    s3, bucket, key = make_client(rgw["cfg"]["admin"]), rgw["owner"].bucket, stored["key"]
    s3.put_object_legal_hold(Bucket=bucket, Key=key, VersionId=stored["version"], LegalHold={"Status": "ON"})
    s3.put_object_legal_hold(Bucket=bucket, Key=key, VersionId=stored["version"], LegalHold={"Status": "OFF"})
    _denied(s3.delete_object, Bucket=bucket, Key=key, VersionId=stored["version"])
    _denied(s3.put_object_retention, Bucket=bucket, Key=key, VersionId=stored["version"],
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": datetime.now(UTC) + timedelta(days=1)})
