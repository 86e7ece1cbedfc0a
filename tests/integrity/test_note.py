"""integrity's note/checkpoint/tlog-proof parsers ARE the bag verifier's: the inputs the two used to
disagree on (issue 16 item 5, issue 11) are now refused by both, with integrity's own errors."""

from __future__ import annotations

import base64

import pytest

from liuhen.core import verifier
from liuhen.integrity import checkpoint, note, tlogproof
from liuhen.integrity.errors import MalformedKey, VerificationError

ORIGIN = "liuhen.local/audit"


def _cp(s: note.Signer) -> str:
    return note.sign(f"{ORIGIN}\n5\n{base64.b64encode(bytes(32)).decode()}\n", [s])


def test_a_space_in_the_hex_key_id_is_refused() -> None:
    """``bytes.fromhex`` skips spaces; before the fix ``parse_vkey`` accepted ``ab cd1234``."""
    s = note.Signer.generate(ORIGIN)
    name, kid, key = s.verifier.vkey.split("+", 2)
    with pytest.raises(MalformedKey, match="8 hex digits"):
        note.parse_vkey(f"{name}+{kid[:2]} {kid[2:]}+{key}")
    assert note.parse_vkey(s.verifier.vkey) == s.verifier


@pytest.mark.parametrize("digits", ["\u0665\u0669", "\u00b2"])
def test_non_ascii_digits_are_named_failures(digits: str) -> None:
    s = note.Signer.generate(ORIGIN)
    with pytest.raises(VerificationError, match="tlog-proof index is not a decimal number"):
        tlogproof.parse(f"c2sp.org/tlog-proof@v1\nindex {digits}\n\n{_cp(s)}")
    with pytest.raises(VerificationError, match="checkpoint size is not a decimal number"):
        checkpoint.parse_body(f"{ORIGIN}\n{digits}\n{base64.b64encode(bytes(32)).decode()}\n")


@pytest.mark.parametrize("mutate", [
    lambda n: n.replace("\u2014 liuhen.local/audit ", "\u2014 liuhen\u3000audit "),  # ideographic space in name
    lambda n: n.replace("\n\n", "\n\r\n", 1),
    lambda n: n[:-1] + "\x0b\n",
], ids=["name-with-unicode-space", "carriage-return", "vertical-tab-in-signatures"])
def test_integrity_and_the_bag_verifier_refuse_the_same_notes(mutate: object) -> None:
    s = note.Signer.generate(ORIGIN)
    bad = mutate(_cp(s))  # type: ignore[operator]
    with pytest.raises(VerificationError):
        note.open_note(bad, [s.verifier])
    with pytest.raises(verifier.CheckFailed):
        verifier.verify_note(bad, [verifier.parse_verifier_key(s.verifier.vkey)], "cp")
