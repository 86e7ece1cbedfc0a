"""Proof verification per RFC 9162 §2.1.3.2 and §2.1.4.2 — integrity's face of the bag verifier.

The algorithms are defined once, in the standard-library verifier shipped in every bag
(``liuhen.core.verifier``); this module adapts them to the package's errors: every function returns
``None`` or raises :class:`liuhen.integrity.errors.VerificationError` naming what was expected and
what was computed. Malformed input is rejected, never "repaired" (see the verifier for the rules).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from liuhen.core import verifier
from liuhen.integrity.errors import IntegrityError, VerificationError


@contextmanager
def checked(error: Callable[[verifier.CheckFailed], IntegrityError] | None = None) -> Iterator[None]:
    """Turn the verifier's ``CheckFailed`` into ``VerificationError`` (or ``error(exc)``)."""
    try:
        yield
    except verifier.CheckFailed as exc:
        if error is not None:
            raise error(exc) from exc
        what = f"{exc.item}: {exc.what}" if exc.item else exc.what
        raise VerificationError(what, exc.expected, exc.computed) from exc


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``."""
    with checked():
        verifier.verify_inclusion("", leaf_hash, index, size, proof, root)


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Check that the tree (``size1``, ``root1``) is a prefix of (``size2``, ``root2``)."""
    with checked():
        verifier.verify_consistency("", size1, size2, proof, root1, root2)
