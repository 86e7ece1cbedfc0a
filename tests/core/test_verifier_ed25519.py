"""The pure-Python Ed25519 verifier shipped in every bag (liuhen/core/verifier.py) against RFC 8032 §7.1,
and, differentially (Hypothesis), against OpenSSL's through ``cryptography`` — the primitive
integrity's ``note.Verifier`` uses, so the bag and the log accept exactly the same signatures.

The five vectors (TEST 1, 2, 3, 1024, SHA(abc)) are the RFC's secret key, public key, message and
signature. The test also re-derives each public key and signature with the ``cryptography`` package
(OpenSSL), so a transcription error in the vectors cannot hide.
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from liuhen.core.verifier import _L, _P, ed25519_verify

TEST_1024_MESSAGE = (
    "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98"
    "fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23fb1433ddf73be84d8"
    "79de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d"
    "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc"
    "1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4fe"
    "ba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e"
    "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbef"
    "efd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7"
    "aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1"
    "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2"
    "d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24"
    "554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270"
    "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc"
    "2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b07"
    "07e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba"
    "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51a"
    "ddd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429e"
    "c96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7"
    "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c"
    "42f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8"
    "ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df"
    "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08"
    "d78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649"
    "de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4"
    "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a3"
    "2ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e"
    "6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f"
    "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b5"
    "0d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1"
    "369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d"
    "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c"
    "0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0"
)

# (name, secret key, public key, message, signature) — RFC 8032 section 7.1
VECTORS = [
    ("TEST 1",
     "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
     "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("TEST 2",
     "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
     "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("TEST 3",
     "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
     "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
    ("TEST 1024",
     "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
     "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
     TEST_1024_MESSAGE,
     "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350"
     "aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03"),
    ("TEST SHA(abc)",
     "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
     "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"),
]
IDS = [v[0] for v in VECTORS]


def _v(name: str) -> tuple[bytes, bytes, bytes, bytes]:
    for v in VECTORS:
        if v[0] == name:
            sk, pk, msg, sig = (bytes.fromhex(x) for x in v[1:])
            return sk, pk, msg, sig
    raise KeyError(name)


def test_vectors_are_the_rfcs() -> None:
    assert len(bytes.fromhex(TEST_1024_MESSAGE)) == 1023
    assert _v("TEST SHA(abc)")[2] == hashlib.sha512(b"abc").digest()


@pytest.mark.parametrize("name", IDS)
def test_rfc8032_vector_matches_an_independent_implementation(name: str) -> None:
    sk, pk, msg, sig = _v(name)
    key = Ed25519PrivateKey.from_private_bytes(sk)
    assert key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) == pk
    assert key.sign(msg) == sig  # Ed25519 is deterministic


@pytest.mark.parametrize("name", IDS)
def test_rfc8032_vector_verifies(name: str) -> None:
    _, pk, msg, sig = _v(name)
    assert ed25519_verify(pk, msg, sig) is True


@pytest.mark.parametrize("name", IDS)
def test_any_change_is_refused(name: str) -> None:
    _, pk, msg, sig = _v(name)
    for i in range(0, 8 * len(sig), 37):  # a spread of signature bits (R and S halves)
        bad = bytearray(sig)
        bad[i // 8] ^= 1 << (i % 8)
        assert not ed25519_verify(pk, msg, bytes(bad)), f"signature bit {i}"
    assert not ed25519_verify(pk, msg + b"\x00", sig)
    if msg:
        assert not ed25519_verify(pk, bytes([msg[0] ^ 1]) + msg[1:], sig)
    bad_pk = bytearray(pk)
    bad_pk[0] ^= 1
    assert not ed25519_verify(bytes(bad_pk), msg, sig)


def test_another_keys_signature_is_refused() -> None:
    _, _, msg, sig2 = _v("TEST 2")
    _, pk3, _, _ = _v("TEST 3")
    assert not ed25519_verify(pk3, msg, sig2)


def test_s_at_or_above_the_group_order_is_refused() -> None:
    """RFC 8032 §5.1.7: S must be < L (else one signature would have two spellings)."""
    _, pk, msg, sig = _v("TEST 1")
    s = int.from_bytes(sig[32:], "little")
    for t in (s + _L, _L):
        assert not ed25519_verify(pk, msg, sig[:32] + t.to_bytes(32, "little"))


def test_undecodable_points_and_wrong_lengths_are_refused() -> None:
    _, pk, msg, sig = _v("TEST 1")
    y_is_p = _P.to_bytes(32, "little")
    for bad in (y_is_p, ((1 << 255) - 1).to_bytes(32, "little")):
        assert not ed25519_verify(bad, msg, sig)
        assert not ed25519_verify(pk, msg, bad + sig[32:])
    assert not ed25519_verify(pk[:31], msg, sig)
    assert not ed25519_verify(pk, msg, sig[:63])
    assert not ed25519_verify(pk, msg, sig + b"\x00")
    assert not ed25519_verify("not bytes", msg, sig)  # type: ignore[arg-type]


def test_signatures_made_by_openssl_verify() -> None:
    key = Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    for msg in (b"", b"liuhen.local/audit\n42\n" + b"x" * 44 + b"\n", bytes(range(256)) * 5):
        assert ed25519_verify(pub, msg, key.sign(msg))


# ------------------------------------------------------------------ differential: pure Python vs OpenSSL


def _openssl_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


@settings(max_examples=60, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=300))
def test_differential_random_keys_and_messages_verify_in_both(seed: bytes, message: bytes) -> None:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    sig = key.sign(message)
    assert ed25519_verify(public, message, sig) is True
    assert _openssl_verify(public, message, sig) is True


@settings(max_examples=80, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=100),
       flip=st.integers(min_value=0, max_value=64 * 8 - 1), other=st.binary(max_size=100))
def test_differential_corrupted_signatures_and_messages_are_refused_by_both(
        seed: bytes, message: bytes, flip: int, other: bytes) -> None:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    sig = bytearray(key.sign(message))
    sig[flip // 8] ^= 1 << (flip % 8)
    assert ed25519_verify(public, message, bytes(sig)) == _openssl_verify(public, message, bytes(sig)) == False  # noqa: E712
    if other != message:
        good = key.sign(message)
        assert ed25519_verify(public, other, good) == _openssl_verify(public, other, good) == False  # noqa: E712


@settings(max_examples=150, deadline=None)
@given(public=st.binary(min_size=32, max_size=32), sig=st.binary(min_size=64, max_size=64),
       message=st.binary(max_size=50))
def test_differential_arbitrary_keys_and_signatures_agree(public: bytes, sig: bytes, message: bytes) -> None:
    """Malformed points, S >= L, small-order keys: whatever the bytes, both give the same answer."""
    assert ed25519_verify(public, message, sig) == _openssl_verify(public, message, sig)


@settings(max_examples=60, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=50),
       cut=st.integers(min_value=0, max_value=70))
def test_differential_wrong_lengths_are_refused_by_both(seed: bytes, message: bytes, cut: int) -> None:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    sig = key.sign(message)
    bad = (sig + sig)[:cut] if cut != 64 else sig[:63]
    assert ed25519_verify(public, message, bad) is False
    assert _openssl_verify(public, message, bad) is False


@settings(max_examples=40, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=50),
       add=st.integers(min_value=1, max_value=8))
def test_differential_non_canonical_s_is_refused_by_both(seed: bytes, message: bytes, add: int) -> None:
    """S + k·L (same scalar mod L, non-canonical encoding) must be refused (RFC 8032 §5.1.7 step 1)."""
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    sig = key.sign(message)
    s = int.from_bytes(sig[32:], "little") + add * _L
    if s >= 1 << 256:
        return
    bad = sig[:32] + s.to_bytes(32, "little")
    assert ed25519_verify(public, message, bad) is False
    assert _openssl_verify(public, message, bad) is False
