"""Redaction: faces and voices hidden in copies for disclosure, reviewed, provably derived (issue 13)."""
