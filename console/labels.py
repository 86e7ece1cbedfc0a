"""Words the console shows that come from data (stages, roles, recording categories, navigation) — message ids
marked with ``N_`` so the catalogs carry them; templates translate them with ``_()`` at render time."""

from __future__ import annotations

from collections.abc import Callable, Mapping


def N_(s: str) -> str:
    return s


STAGE_LABELS = {
    "filing": N_("Filing"),
    "investigation": N_("Investigation"),
    "review": N_("Review"),
    "decision": N_("Decision"),
    "service": N_("Service"),
    "execution": N_("Execution"),
    "closure": N_("Closure"),
}
ROLE_LABELS = {
    "clerk": N_("Evidence clerk"),
    "reviewer": N_("Reviewer"),
    "legal_reviewer": N_("Legal reviewer"),
    "supervisor": N_("Supervisor"),
    "admin": N_("Administrator"),
    "external": N_("External recipient"),
}
RECORDING_LABELS = {
    "full_av": N_("Full audio-video recording"),
    "av_as_needed": N_("AV as circumstances require"),
    "text": N_("Text record"),
}
# Activity kinds of the seeded recording list (音像记录事项清单); kinds an admin adds later show the list's own label.
ACTIVITY_LABELS = {
    "seizure": N_("Seizure"),
    "sealing": N_("Sealing"),
    "forced_demolition": N_("Forced demolition"),
    "questioning_room": N_("Questioning at the case-handling site"),
    "onsite_inspection": N_("On-site inspection"),
    "evidence_collection": N_("Evidence collection"),
    "hearing": N_("Hearing"),
    "lodged_service": N_("Service by lodging"),
    "announcement_service": N_("Service by announcement"),
    "document_review": N_("Document review"),
    "text_record": N_("Text record"),
}
CASE_TYPES = {
    "permit": N_("Administrative permit"), "penalty": N_("Administrative penalty"),
    "coercive": N_("Administrative coercion"), "levy": N_("Administrative levy"),
    "inspection": N_("Administrative inspection"),
}
# Flags the dock puts on files and offloads (ingest); unknown flags are shown as they are.
FLAG_LABELS = {
    "bad_name": N_("unexpected file name"), "clock_drift": N_("clock drift"),
    "control_chars_in_name": N_("control characters in the name"),
    "duplicate_across_recorders": N_("duplicate of another recorder's file"),
    "duplicate_within_recorder": N_("duplicate on this recorder"), "late_upload": N_("late upload"),
    "missing_identity": N_("recorder identity missing"), "name_identity_mismatch": N_("name does not match recorder"),
    "path_traversal_name": N_("unsafe path in the name"), "symlink": N_("symbolic link"),
    "unknown_media_type": N_("unknown media type"), "zero_byte": N_("empty file"),
    "fixity_failed": N_("fixity check failed"),
}
FILE_STATES = {"pending": N_("not yet stored"), "stored": N_("stored"), "failed": N_("failed")}
PUBLICATION_STATES = {
    "due": N_("due"), "published": N_("published"), "updated": N_("updated"), "revoked": N_("revoked"),
}
# Audit-log event types (the leaf's ``type``) as people read them; unknown types are shown as they are.
EVENT_LABELS = {
    "ingestion": N_("Ingestion"), "receipt": N_("Receipt"), "fixity.check": N_("Fixity check"),
    "derivation": N_("Derivation"), "link": N_("Clip linked"), "unlink": N_("Clip unlinked"),
    "stage.change": N_("Stage change"), "legal_review": N_("Legal review"), "case.create": N_("Case opened"),
    "case.grant": N_("Case shared with a unit"), "activity": N_("Activity recorded"),
    "access.view": N_("Viewed"), "access.stream": N_("Played"), "access.download": N_("Downloaded"),
    "access.request": N_("Access requested"), "access.approval": N_("Access decided"), "export": N_("Exported"),
    "retention.extend": N_("Retention extended"), "hold.set": N_("Legal hold set"),
    "hold.release": N_("Legal hold released"), "disposal": N_("Disposal"), "key.rotate": N_("Key rotation"),
    "publication.due": N_("Publication due"), "publication.approve": N_("Publication approved"),
    "publication.publish": N_("Decision published"), "publication.revoke": N_("Publication revoked"),
    "publication.deadline": N_("Publication deadline recomputed"), "evaluation.finding": N_("Evaluation finding"),
    "redaction.draft": N_("Redaction drafted"), "redaction.approve": N_("Redaction approved"),
}
# Words the templates pass through _() as data values (status, kinds, finding marks).
DATA_WORDS = (
    N_("pending"), N_("approved"), N_("rejected"), N_("download"), N_("export"),
    N_("view"), N_("stream"), N_("late_upload"), N_("clock_drift"), N_("video"), N_("audio"), N_("photo"),
    N_("unknown"),
)
# Navigation: (path, page route name, label); shown only where the role matrix allows the page.
NAV = (
    ("/dock", "console.dock", N_("Dock station")),
    ("/cases", "console.cases", N_("Cases")),
    ("/files", "console.search", N_("Footage")),
    ("/requests", "console.requests", N_("Access requests")),
    ("/inbox", "console.inbox", N_("Approvals")),
    ("/bags", "console.bags", N_("Export bags")),
    ("/supervision", "console.supervision", N_("Supervision")),
    ("/redactions", "console.redactions", N_("Redactions")),
    ("/oversight", "console.oversight", N_("Oversight")),
    ("/admin", "console.admin", N_("Administration")),
    ("/audit", "console.audit", N_("Audit log")),
)
PROOF_WORDS = {
    "ok": N_("Verified in this browser: the leaf bytes hash to the leaf hash and the proof leads to the "
             "checkpoint's root."),
    "bad": N_("NOT VERIFIED in this browser: %(what)s"),
    "nocrypto": N_("This browser cannot compute SHA-256 here (the page is not in a secure context)."),
    "leaf": N_("leaf hash differs"), "root": N_("the root computed from the proof differs from the checkpoint's"),
}
DOCK_WORDS = {
    "running": N_("OFFLOADING"), "safe": N_("SAFE TO WIPE"), "unsafe": N_("NOT SAFE"), "port": N_("Port"),
    "officer": N_("Officer"), "device": N_("Device"), "files": N_("files"), "eta": N_("ETA"),
    "flags": N_("Flags"), "receipt": N_("Receipt"), "empty": N_("No recorder is docked."),
    "why": N_("Not safe to wipe because:"),
}


def stage_label(stage: str) -> str:
    return STAGE_LABELS.get(stage, stage)


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def recording_label(kind: str) -> str:
    return RECORDING_LABELS.get(kind, kind)


def flag_label(flag: str) -> str:
    return FLAG_LABELS.get(flag, flag)


def file_state(state: str) -> str:
    return FILE_STATES.get(state, state)


def case_type_label(kind: str) -> str:
    return CASE_TYPES.get(kind, kind)


def publication_state(state: str) -> str:
    return PUBLICATION_STATES.get(state, state)


def event_label(kind: str) -> str:
    return EVENT_LABELS.get(kind, kind)


def activity_label(kind: str, translate: Callable[[str], str], list_labels: Mapping[str, str]) -> str:
    """An activity kind in the page's language: the catalog's word for a seeded kind, else the recording
    list's own label (what the admin typed), else the key."""
    if kind in ACTIVITY_LABELS:
        return translate(ACTIVITY_LABELS[kind])
    return list_labels.get(kind) or kind

# Error page headings by HTTP status (the error's own English title is shown below as technical detail).
ERROR_HEADINGS = {
    400: N_("The request was not accepted"), 401: N_("Not signed in"), 403: N_("Not allowed"),
    404: N_("Not found"), 409: N_("Conflict with the current state"), 413: N_("Too large"),
    422: N_("The input was not accepted"), 423: N_("Locked"), 428: N_("A purpose must be stated first"),
    500: N_("Server error"), 503: N_("Service unavailable"),
}


ERROR_DETAILS = {
    403: N_("Your role may not open this page."),
    404: N_("Nothing with this name exists, or it is outside your unit."),
    428: N_("State why you are viewing this footage on the player page first."),
}


def error_detail(status: int) -> str | None:
    """A sentence for the person; the error's own (English) text follows as technical detail."""
    return ERROR_DETAILS.get(status)


def error_heading(status: int) -> str:
    if status in ERROR_HEADINGS:
        return ERROR_HEADINGS[status]
    return ERROR_HEADINGS[500] if status >= 500 else ERROR_HEADINGS[400]


# Messages the Python code shows (translated with the request's catalog).
MSG_BAD_LOGIN = N_("Wrong user name or password.")
MSG_LOCKED = N_("This account is locked until %(until)s.")
MSG_FORM_EXPIRED = N_("The form expired or came from another site; please try again.")
MSG_SIGNED_OUT = N_("You have signed out.")
MSG_SESSION_ENDED = N_("Your session has ended; please sign in again.")
MSG_PASSWORD_CHANGED = N_("Password changed.")
MSG_PASSWORDS_DIFFER = N_("The two new passwords differ.")
MSG_FORBIDDEN = N_("Your role may not open this page.")
MSG_NOT_FOUND = N_("Not found.")
MSG_SAVED = N_("Saved.")
MSG_NOT_YET_CHECKPOINTED = N_(
    "Event %(index)s is not in the latest checkpoint yet (size %(size)s); it will be in the next one.")
MSG_NO_UNIT = N_("no unit")
MSG_BAD_INDEX = N_("An event index is a whole number.")
MSG_NO_TRUSTED_KEY = N_("No trusted verifier key is configured (key directory).")
