"""Words the console shows that come from data (stages, roles, recording categories, navigation) — message ids
marked with ``N_`` so the catalogs carry them; templates translate them with ``_()`` at render time."""

from __future__ import annotations


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
# Words the templates pass through _() as data values (status, kinds, finding marks).
DATA_WORDS = (
    N_("pending"), N_("approved"), N_("rejected"), N_("download"), N_("export"),
    N_("late_upload"), N_("clock_drift"), N_("video"), N_("audio"), N_("photo"), N_("unknown"),
)
# Navigation: (path, page route name, label); shown only where the role matrix allows the page.
NAV = (
    ("/dock", "console.dock", N_("Dock station")),
    ("/cases", "console.cases", N_("Cases")),
    ("/files", "console.search", N_("Footage")),
    ("/requests", "console.requests", N_("Access requests")),
    ("/inbox", "console.inbox", N_("Approvals")),
    ("/bags", "console.bags", N_("Export bags")),
    ("/redactions", "console.redactions", N_("Redactions")),
    ("/oversight", "console.oversight", N_("Oversight")),
    ("/admin", "console.admin", N_("Administration")),
    ("/audit", "console.audit", N_("Audit log")),
)
DOCK_WORDS = {
    "running": N_("OFFLOADING"), "safe": N_("SAFE TO WIPE"), "unsafe": N_("NOT SAFE"), "port": N_("Port"),
    "officer": N_("Officer"), "device": N_("Device"), "files": N_("files"), "eta": N_("ETA"),
    "flags": N_("Flags"), "receipt": N_("Receipt"), "empty": N_("No recorder is docked."),
}


def stage_label(stage: str) -> str:
    return STAGE_LABELS.get(stage, stage)


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def recording_label(kind: str) -> str:
    return RECORDING_LABELS.get(kind, kind)
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
