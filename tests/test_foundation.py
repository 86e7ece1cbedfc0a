"""Foundation: migrations, configuration, media generation."""

from __future__ import annotations

from pathlib import Path

import psycopg

from liuhen.catalog.db import migrate, shipped_migrations
from liuhen.core.config import Settings


def test_migrations_apply_to_empty_database_in_order_and_are_idempotent(empty_pg_url: str) -> None:
    with psycopg.connect(empty_pg_url) as conn:
        first = migrate(conn)
        assert first == [v for v, _ in shipped_migrations()]
        assert first == sorted(first)
        assert migrate(conn) == []
        rows = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
        assert [r[0] for r in rows] == first


def test_constraints_enforce_unique_digest_and_stage_values(pg_url: str) -> None:
    import pytest

    digest = "ab" * 32
    with psycopg.connect(pg_url) as conn:
        conn.execute("INSERT INTO files (sha256, size, storage_key) VALUES (%s, 1, 'k')", (digest,))
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO files (sha256, size, storage_key) VALUES (%s, 1, 'k2')", (digest,))
    with psycopg.connect(pg_url) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO cases (case_no, agency, subject, case_type, stage, created_by) "
            "VALUES ('X', 'A', 'S', 'penalty', 'bogus', 'me')"
        )
    with psycopg.connect(pg_url) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("INSERT INTO files (sha256, size, storage_key) VALUES ('not-hex', 1, 'k')")


def test_settings_from_environment(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIUHEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LIUHEN_STORE", "memory")
    monkeypatch.setenv("LIUHEN_DIGESTS", '["sm3"]')
    monkeypatch.setenv("LIUHEN_RETENTION_DAYS", "365")
    s = Settings()
    assert s.root == tmp_path.resolve()
    assert s.store == "memory"
    assert s.digests == ["sha256", "sm3"]
    assert s.retention_days == 365
    assert s.database_url is None  # embedded by default


def test_settings_from_toml(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "liuhen.toml"
    cfg.write_text('store = "memory"\nretention_days = 200\n')
    monkeypatch.setenv("LIUHEN_CONFIG", str(cfg))
    s = Settings()
    assert (s.store, s.retention_days) == ("memory", 200)


def test_retention_below_six_months_is_refused() -> None:
    import pydantic
    import pytest

    with pytest.raises(pydantic.ValidationError):
        Settings(retention_days=30)


def test_media_fixture_is_real_footage(media: dict[str, Path]) -> None:
    import av

    with av.open(str(media["h264_mp4"])) as c:
        v = c.streams.video[0]
        assert v.codec_context.name == "h264"
        assert c.streams.audio[0].codec_context.name == "aac"
    with av.open(str(media["hevc_mp4"])) as c:
        assert c.streams.video[0].codec_context.name == "hevc"
    assert media["truncated_mp4"].stat().st_size < media["h264_mp4"].stat().st_size
