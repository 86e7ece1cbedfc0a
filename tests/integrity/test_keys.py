"""``integrity.keys.signer``: nodes sharing a key directory agree on one signing key."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

from liuhen.integrity import keys


def _start_together(key_dir: Path, nodes: int) -> list[str]:
    """``nodes`` threads ask for the signing key of an empty directory at the same moment."""
    settings = SimpleNamespace(key_dir=key_dir, log_origin="county.example/log")
    go = threading.Barrier(nodes)
    got: list[str] = []

    def node() -> None:
        go.wait()
        got.append(keys.signer(settings).verifier.vkey)

    threads = [threading.Thread(target=node) for _ in range(nodes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return got


def test_nodes_starting_together_on_one_key_dir_use_the_key_on_disk(tmp_path: Path) -> None:
    # Seen in the county run: two API nodes on one data dir both generated a key; the one replaced on
    # disk had signed checkpoints, and `audit verify` rightly refused its log_keys row as untrusted.
    for run in range(20):
        key_dir = tmp_path / f"keys-{run}"
        got = _start_together(key_dir, 6)
        on_disk, problems = keys.disk_keys(key_dir)
        assert problems == [] and len(on_disk) == 1, (on_disk, problems)
        assert got == [on_disk[0]] * 6, f"run {run}: nodes signed with {set(got) - set(on_disk)} not on disk"
        assert sorted(p.name for p in key_dir.iterdir()) == [keys.KEY_FILE, keys.PUB_FILE]  # no stray temp files
        assert (key_dir / keys.KEY_FILE).stat().st_mode & 0o777 == 0o600
