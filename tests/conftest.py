"""Shared fixtures: a real PostgreSQL (the machine's, or an embedded pgserver), settings, small footage.

PostgreSQL: ``LIUHEN_TEST_DATABASE_URL`` if set, else 127.0.0.1:5432 (trust auth) when reachable,
else an embedded pgserver under a temporary directory — so the suite runs on a fresh machine too.
Each test gets a fresh database cloned from a migrated template.

pytest-xdist (``-n auto``): every worker builds its own template database (named by pid), its own
embedded cluster if one is needed, and uses its own temporary directories — nothing is shared.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from liuhen.catalog.db import Catalog, migrate, with_dbname
from liuhen.core.config import Settings

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
LOCAL_CANDIDATES = (
    "postgresql://postgres@127.0.0.1:5432/postgres",
    "postgresql://root@127.0.0.1:5432/postgres",
)


def _reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False



@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL with rights to create databases."""
    env = os.environ.get("LIUHEN_TEST_DATABASE_URL")
    if env:
        yield env
        return
    for cand in LOCAL_CANDIDATES:
        if _reachable(cand):
            yield cand
            return
    from liuhen.embedded import start_postgres, stop_postgres

    base = Path(os.environ.get("LIUHEN_TEST_PGDATA", Path(tempfile.gettempdir()) / "liuhen-test-pg"))
    url = start_postgres(base / f"pgdata-{os.getuid()}-{_WORKER}")  # one cluster per xdist worker
    yield with_dbname(url, "postgres")
    stop_postgres()


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str) -> Iterator[str]:
    """Name of a template database with every migration applied."""
    name = f"liuhen_tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(with_dbname(pg_admin_url, name)) as conn:
        migrate(conn)
    yield name
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _drop_database(pg_admin_url: str, name: str) -> None:
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class _Databases:
    """This worker's test databases: a clone of the template is made ahead, and used ones are dropped,
    by one background thread — so neither CREATE nor DROP DATABASE (~0.2–1 s each) is on a test's path."""

    def __init__(self, admin_url: str, template: str, ahead: int = 2) -> None:
        self.admin_url, self.template = admin_url, template
        self.ready: queue.Queue[str] = queue.Queue(maxsize=ahead)
        self.trash: queue.Queue[str] = queue.Queue()
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="test-databases", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                while not self._stop.is_set():
                    if not self.ready.full() and (self.ready.empty() or self.trash.empty()):
                        name = f"liuhen_t_{uuid.uuid4().hex[:12]}"
                        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
                        self.ready.put(name)
                        continue
                    try:
                        old = self.trash.get(timeout=0.05)
                    except queue.Empty:
                        continue
                    conn.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
        except BaseException as exc:  # surfaced by take()
            self.error = exc

    def take(self) -> str:
        while True:
            try:
                return self.ready.get(timeout=1.0)
            except queue.Empty:
                if self.error is not None or not self._thread.is_alive():
                    raise RuntimeError(f"test database maker stopped: {self.error}") from self.error

    def discard(self, name: str) -> None:
        self.trash.put(name)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        leftovers = []
        for q in (self.ready, self.trash):
            while not q.empty():
                leftovers.append(q.get_nowait())
        for name in leftovers:
            _drop_database(self.admin_url, name)


@pytest.fixture(scope="session")
def _databases(pg_admin_url: str, pg_template: str) -> Iterator[_Databases]:
    dbs = _Databases(pg_admin_url, pg_template)
    yield dbs
    dbs.close()


@pytest.fixture
def pg_url(pg_admin_url: str, _databases: _Databases) -> Iterator[str]:
    """A fresh, migrated, empty database for this test."""
    name = _databases.take()
    yield with_dbname(pg_admin_url, name)
    _databases.discard(name)


@pytest.fixture
def empty_pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh database with no migrations applied."""
    name = f"liuhen_e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield with_dbname(pg_admin_url, name)
    _drop_database(pg_admin_url, name)


@pytest.fixture
def catalog(pg_url: str) -> Iterator[Catalog]:
    cat = Catalog(pg_url, max_size=8).open()
    yield cat
    cat.close()


@pytest.fixture
def settings(tmp_path: Path, pg_url: str) -> Settings:
    """Settings on the test database, the local store and data under tmp_path."""
    return Settings(data_dir=tmp_path / "data", database_url=pg_url, store="local", broker_url=None)


@pytest.fixture
def runtime(settings: Settings):  # type: ignore[no-untyped-def]
    from liuhen.wiring import build_runtime

    rt = build_runtime(settings)
    yield rt
    rt.close()


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temporary directory every user can traverse.

    Embedded PostgreSQL runs as the unprivileged ``pgserver`` user when the tests run as root, and
    pytest's own ``/tmp/pytest-of-<user>`` is mode 0700 (and reset to it by every new session).
    """
    import shutil

    d = Path(tempfile.mkdtemp(prefix="liuhen-test-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small real footage made by ffmpeg, shared by the whole session (treat as read-only)."""
    from liuhen.core import media as m

    d = tmp_path_factory.mktemp("media")
    out = {
        "h264_mp4": m.make_video(d / "h264.mp4", seconds=4, width=320, height=240, bitrate="400k", seed=1),
        "h264_mp4_b": m.make_video(d / "h264b.mp4", seconds=3, width=320, height=240, bitrate="400k", seed=2),
        "hevc_mp4": m.make_video(
            d / "hevc.mp4", seconds=2, codec="hevc", width=320, height=240, bitrate="300k", seed=3
        ),
        "wav": m.make_wav(d / "note.wav", seconds=2),
        "jpg": m.make_jpg(d / "photo.jpg", width=640, height=480),
    }
    out["truncated_mp4"] = m.truncate_copy(out["h264_mp4"], d / "truncated.mp4")
    return out
