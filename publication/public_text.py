"""The public text of a decision (行政执法决定信息公开), built from the case — pure.

The text names the agency, the case number, the party (masked unless a legal person), the category of
decision and its conclusion, with personal data masked by ``masking``. A person edits and approves it
before it goes out; ``check_public`` refuses a text that still shows personal data of the case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from liuhen.publication.errors import PersonalDataInText
from liuhen.publication.masking import find_personal_data, is_legal_person, mask_name, mask_text

CATEGORY_LABELS = {
    "permit": "行政许可",
    "penalty": "行政处罚",
    "coercive": "行政强制",
    "levy": "行政征收",
    "inspection": "行政检查",
}


@dataclass(frozen=True)
class CaseFacts:
    """What the public text is built from. ``persons``: other natural persons named in the conclusion."""

    case_no: str
    agency: str
    subject: str
    case_type: str
    conclusion: str
    decided_on: date
    subject_is_legal_person: bool | None = None  # None: decide by ``is_legal_person``
    persons: Sequence[str] = field(default_factory=tuple)

    @property
    def legal_person(self) -> bool:
        if self.subject_is_legal_person is None:
            return is_legal_person(self.subject)
        return self.subject_is_legal_person

    def natural_persons(self) -> list[str]:
        names = [p for p in self.persons if p.strip()]
        if not self.legal_person:
            names.append(self.subject)
        return names


def public_subject(facts: CaseFacts) -> str:
    return facts.subject.strip() if facts.legal_person else mask_name(facts.subject)


def build_public_text(facts: CaseFacts) -> str:
    """The draft text (one field per line) with every personal datum of the case masked."""
    people = facts.natural_persons()
    category = CATEGORY_LABELS.get(facts.case_type, facts.case_type)
    lines = [
        f"执法机关：{facts.agency.strip()}",
        f"案号：{facts.case_no.strip()}",
        f"当事人：{public_subject(facts)}",
        f"执法类别：{category}",
        f"决定日期：{facts.decided_on.isoformat()}",
        f"决定内容：{mask_text(facts.conclusion.strip(), people)}",
    ]
    return "\n".join(lines) + "\n"


def check_public(text: str, facts: CaseFacts) -> None:
    """Raise ``PersonalDataInText`` naming each personal datum still readable in ``text``."""
    leaks = find_personal_data(text, facts.natural_persons())
    if leaks:
        what = "; ".join(f"{leak.kind} {leak.value!r}" for leak in leaks)
        raise PersonalDataInText(f"the public text of case {facts.case_no} still shows personal data: {what}")
