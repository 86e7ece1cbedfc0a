"""Integrity: hashes, the RFC 9162 Merkle audit log, signed checkpoints, proofs, fixity, exports."""
