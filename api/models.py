"""Typed request/response models (the OpenAPI schema is generated from these)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, WithJsonSchema

from liuhen.cases.values import CASE_NO_PATTERN
from liuhen.core.text import describe

Stage = Literal["filing", "investigation", "review", "decision", "service", "execution", "closure"]
CaseType = Literal["permit", "penalty", "coercive", "levy", "inspection"]
Recording = Literal["full_av", "av_as_needed", "text"]
Sha256 = Field(pattern=r"^[0-9a-fA-F]{64}$")
# The text rule (liuhen.core.text): no control character (C0, DEL, C1) and no line/paragraph separator.
# Stated in the schema as a pattern; a value that breaks it is refused by ``_no_controls`` first, with a
# 422 naming the field, the character and its position.
_CC = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
NO_CONTROLS = rf"^[^{_CC}]*$"
# ... and, for fields the services strip and then require non-empty (or two characters long): that many
# characters other than white space.
NONBLANK = rf"^[^{_CC}]*[^\s{_CC}][^{_CC}]*$"
NONBLANK2 = rf"^[^{_CC}]*[^\s{_CC}][^{_CC}]*[^\s{_CC}][^{_CC}]*$"


def _no_controls(v: Any, info: ValidationInfo) -> Any:
    why = describe(info.field_name or "text", v) if isinstance(v, str) else None
    if why:
        raise ValueError(why)
    return v


# Strings whose schema states a pattern; the text rule is checked first (the validator is outermost).
PlainText = Annotated[str, Field(pattern=NO_CONTROLS), BeforeValidator(_no_controls)]
NonBlank = Annotated[str, Field(pattern=NONBLANK), BeforeValidator(_no_controls)]
NonBlank2 = Annotated[str, Field(pattern=NONBLANK2), BeforeValidator(_no_controls)]
CaseNoText = Annotated[str, Field(pattern=CASE_NO_PATTERN), BeforeValidator(_no_controls)]
UNIT_PATTERN = rf"^[^{_CC}/]*[^\s{_CC}/][^{_CC}/]*$"
UnitText = Annotated[str, Field(pattern=UNIT_PATTERN), BeforeValidator(_no_controls)]
Text = Field(min_length=1, max_length=500)
# Ids are bounded by 2**53 (exact in every JSON number implementation; a bigserial never gets there).
Id = Field(ge=1, le=2**53)
CaseNo = Field(min_length=1, max_length=500,
               description="案号, e.g. 京公（朝）行罚决字〔2024〕第123号; no '/' (it would not be addressable)")

# Every date-time that enters the API is bounded here, at the edge: its year (as written, before conversion to
# UTC) lies in 1900..2199, which the schema states as a pattern; anything else is a 422 naming the field, never an
# OverflowError deeper down (0001-01-01T00:00:00+14:00 is before year 1 in UTC).
MOMENT_MIN = datetime(1900, 1, 1, tzinfo=UTC)
MOMENT_MAX = datetime(2200, 1, 1, tzinfo=UTC)
MOMENT_PATTERN = r"^(19|2[01])[0-9]{2}-"
_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _not_a_number(v: Any) -> Any:
    if isinstance(v, bool | int | float) or (isinstance(v, str | bytes) and _NUMBER.fullmatch(str(v))):
        raise ValueError("expected an RFC 3339 date-time such as 2024-05-06T09:00:00+08:00, not a number")
    return v


def _bounded(v: datetime) -> datetime:
    if not MOMENT_MIN.year <= v.year < MOMENT_MAX.year:
        raise ValueError(f"date-time out of range: its year must lie between {MOMENT_MIN.year} and "
                         f"{MOMENT_MAX.year - 1}")
    return v


Moment = Annotated[
    datetime,
    BeforeValidator(_not_a_number),
    AfterValidator(_bounded),
    Field(strict=False),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": MOMENT_PATTERN,
                    "description": "RFC 3339 date-time with offset, year 1900..2199"}),
]


def _integral(v: Any) -> Any:
    """JSON Schema counts 7.0 as an integer; so does the API (but never "7", nor true)."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


# Any integer in a request body carries this (``Annotated[int, Field(ge=.., le=..), Integral]``).
Integral = BeforeValidator(_integral)
# An id in a request body (the bounds inside the type, so that the schema states them).
BodyId = Annotated[int, Field(ge=1, le=2**53), Integral]

# Multi-line text meant for people (a public text, a decision's content): line breaks and TAB are allowed,
# every other C0 control and DEL is not (PostgreSQL text cannot even hold NUL).
_ML = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
MultiLineNonBlank = Annotated[str, Field(pattern=rf"^[^{_ML}]*[^\s{_ML}][^{_ML}]*$")]


class In(BaseModel):
    """Request bodies: strict types ("approve": 0 is not a boolean, "5" is not an integer)."""

    model_config = ConfigDict(strict=True)


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class Health(Out):
    status: Literal["ok", "degraded"]
    database: bool


class WhoAmI(Out):
    name: str
    role: str
    unit_code: str | None


class CaseIn(In):
    case_no: CaseNoText = CaseNo
    agency: NonBlank = Text
    subject: NonBlank = Text
    case_type: CaseType
    major: bool = False
    unit_code: PlainText | None = Field(default=None, max_length=64)


class CaseOut(Out):
    id: int
    case_no: str
    agency: str
    unit_code: str | None
    subject: str
    case_type: str
    major: bool
    stage: str
    created_by: str
    created_at: datetime


class GrantIn(In):
    unit_code: UnitText = Field(min_length=1, max_length=64, description="unit to share with")
    reason: NonBlank2 = Field(min_length=2, max_length=500,
                              description="e.g. 联合办案 and the order")


class GrantOut(Out):
    id: int
    case_no: str
    unit_code: str
    granted_by: str
    reason: str
    granted_at: datetime
    event_id: int


class GrantRevokeOut(GrantOut):
    revoked_by: str
    revoke_event_id: int


class StageIn(In):
    stage: Stage


class LegalReviewIn(In):
    opinion: NonBlank = Field(min_length=1, max_length=4000)
    approved: bool


class LegalReviewOut(Out):
    id: int
    reviewer: str
    opinion: str
    approved: bool
    reviewed_at: datetime


class ActivityIn(In):
    stage: Stage
    kind: PlainText = Field(min_length=1, max_length=64)
    starts_at: Moment
    ends_at: Moment
    place: PlainText | None = Field(default=None, max_length=500)
    officers: list[PlainText] = Field(default_factory=list, max_length=50)
    note: PlainText | None = Field(default=None, max_length=4000)


class ActivityOut(Out):
    id: int
    stage: str
    kind: str
    recording: str
    starts_at: datetime
    ends_at: datetime
    place: str | None
    officers: list[str]
    note: str | None = None


class LinkIn(In):
    file: str = Field(
        min_length=1, max_length=64, pattern=r"^([0-9a-fA-F]{64}|[0-9]{1,18})$", description="sha256 or file id"
    )
    stage: Stage
    activity_id: BodyId | None = None
    t_start_s: float | None = Field(default=None, ge=0, le=1e7)
    t_end_s: float | None = Field(default=None, ge=0, le=1e7)
    proves: PlainText | None = Field(default=None, max_length=2000, description="证明对象")


class UnlinkIn(In):
    reason: PlainText | None = Field(default=None, max_length=2000)


class LinkOut(Out):
    id: int
    stage: str
    activity_id: int | None
    file_id: int
    sha256: str
    t_start_s: float | None
    t_end_s: float | None
    proves: str | None
    linked_by: str
    linked_at: datetime
    unlinked_by: str | None = None
    unlinked_at: datetime | None = None
    hold_released: bool | None = None


class StageEntry(Out):
    stage: str
    entered_at: datetime
    entered_by: str


class CaseDetail(CaseOut):
    stages: list[StageEntry]
    legal_reviews: list[LegalReviewOut]
    activities: list[ActivityOut]
    links: list[LinkOut]


class Finding(Out):
    kind: str
    severity: Literal["error", "warning", "info"]
    message: str
    activity_id: int | None = None
    file_id: int | None = None
    sha256: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    seconds: float | None = None


class Gap(Out):
    starts_at: datetime
    ends_at: datetime


class ActivityCoverage(Out):
    id: int
    stage: str
    kind: str
    recording: str
    starts_at: datetime
    ends_at: datetime
    place: str | None
    officers: list[str]
    linked_segments: list[int]
    covered_s: float
    span_s: float
    gaps: list[Gap]


class Segment(Out):
    link_id: int
    file_id: int
    sha256: str
    stage: str
    activity_id: int | None
    officer_no: str | None
    officer_name: str | None
    device_serial: str | None
    starts_at: datetime | None
    ends_at: datetime | None
    proves: str | None


class Completeness(Out):
    case_no: str
    stage: str
    major: bool
    complete: bool
    errors: int
    warnings: int
    activities: list[ActivityCoverage]
    findings: list[Finding]
    segments: list[Segment]


class RecordingItem(In):
    kind: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    recording: Recording
    label: NonBlank = Text


class FileOut(Out):
    id: int
    sha256: str
    size: int
    media_kind: str
    ext: str | None
    original_name: str | None
    device_serial: str | None
    officer_no: str | None
    unit_code: str | None
    recorded_at: datetime | None
    duration_s: float | None
    ingested_at: datetime
    legal_hold: bool
    status: str
    media_status: str
    flags: list[str]


class FileDetail(FileOut):
    derivatives: list[dict[str, Any]]
    links: list[dict[str, Any]]


class SearchPage(Out):
    items: list[FileOut]
    next_cursor: int | None = Field(description="pass as `cursor` for the next page; null at the end")


class AccessRequestIn(In):
    """A download names a case or at least one digest; an export names a case (stated in the schema)."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": ["kind", "files"], "properties": {"kind": {"const": "download"}, "files": {"minItems": 1}}},
        {"required": ["case_no"], "properties": {"case_no": {"type": "string", "minLength": 1}}},
    ]})

    kind: Literal["download", "export"]
    purpose: NonBlank2 = Field(min_length=2, max_length=500)
    case_no: PlainText | None = Field(default=None, max_length=500)
    files: list[Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")]] = Field(default_factory=list, max_length=1000)


class DecisionIn(In):
    approve: bool
    note: PlainText | None = Field(default=None, max_length=2000)
    valid_hours: float = Field(default=72.0, gt=0, le=2160)


class AccessRequestOut(Out):
    id: int
    requester: str
    kind: str
    case_no: str | None
    file_sha256: list[str]
    purpose: str
    status: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    expires_at: datetime | None


class AccessEventOut(Out):
    id: int
    event_id: int
    log_index: int | None
    at: datetime
    user_name: str
    role: str | None
    user_unit: str | None
    kind: str
    purpose: str | None
    sha256: str | None
    derivative_id: int | None
    case_no: str | None
    request_id: int | None
    object_unit: str | None
    outside_unit: bool


class UnusualOut(Out):
    flag: Literal["bulk_download", "bulk_retrieval", "outside_unit"]
    user_name: str
    at: datetime
    count: int
    files: int
    detail: str


class IngestSessionOut(Out):
    id: int
    device_serial: str | None
    dock_path: str
    port: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    files_total: int
    files_done: int
    bytes_total: int
    bytes_done: int
    safe_to_wipe: bool
    identity: dict[str, Any] | None = None
    receipt: dict[str, Any] | None = None
    receipt_event_id: int | None = None


class ThumbnailOut(Out):
    id: int
    kind: str
    seq: int
    mime: str
    size: int
    sha256: str
    url: str


class ExportIn(In):
    request_id: BodyId
    stage: Stage | None = None
    t_from: Moment | None = None
    t_to: Moment | None = None
    disclosure: bool = False  # approved redacted copies only (export.disclosure)
    redactions: list[BodyId] = Field(default_factory=list, max_length=1000)


class ExportOut(Out):
    case_no: str
    request_id: int
    path: str
    result: dict[str, Any]


class CheckpointOut(Out):
    size: int
    root_b64: str
    note: str
    origin: str | None = None


class LeafOut(Out):
    index: int
    event_id: int | None
    leaf_hash_b64: str
    body: dict[str, Any]


class InclusionOut(Out):
    index: int
    tree_size: int
    leaf_hash_b64: str
    hashes_b64: list[str]
    tlog_proof: str | None = None


class ConsistencyOut(Out):
    old_size: int
    new_size: int
    hashes_b64: list[str]


class MatchOut(Out):
    matches: list[dict[str, Any]]
