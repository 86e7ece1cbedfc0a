"""Progress reporting: a small protocol the offloader calls, and a rich renderer for the CLI.

The same numbers are kept in ``ingest_sessions`` (files_total/files_done/bytes_total/bytes_done) so the
API can show sessions in progress without talking to the ingesting process.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from liuhen.ingest.receipts import Receipt


class ProgressSink(Protocol):
    def recorder_started(self, key: str, label: str, files: int, nbytes: int) -> None: ...

    def advance(self, key: str, nbytes: int) -> None: ...

    def file_done(self, key: str, path: str, status: str) -> None: ...

    def recorder_finished(self, key: str, receipt: Receipt) -> None: ...


class NullProgress:
    def recorder_started(self, key: str, label: str, files: int, nbytes: int) -> None:
        pass

    def advance(self, key: str, nbytes: int) -> None:
        pass

    def file_done(self, key: str, path: str, status: str) -> None:
        pass

    def recorder_finished(self, key: str, receipt: Receipt) -> None:
        pass


class RichProgress:
    """One bar per recorder plus a total bar: files, bytes, MB/s, ETA. Thread-safe."""

    def __init__(self, console: Any = None) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._p = Progress(
            TextColumn("{task.description}", justify="left"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[files]}"),
            DownloadColumn(binary_units=False),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._lock = threading.Lock()
        self._tasks: dict[str, Any] = {}
        self._files: dict[str, list[int]] = {}
        self._total = self._p.add_task("[bold]total", total=0, files="0/0 files")
        self._tot_files = [0, 0]

    def __enter__(self) -> RichProgress:
        self._p.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._p.stop()

    def recorder_started(self, key: str, label: str, files: int, nbytes: int) -> None:
        with self._lock:
            self._files[key] = [0, files]
            self._tasks[key] = self._p.add_task(label, total=max(nbytes, 1), files=f"0/{files} files")
            self._tot_files[1] += files
            t = self._p.tasks[self._total].total or 0
            self._p.update(self._total, total=t + nbytes, files=f"{self._tot_files[0]}/{self._tot_files[1]} files")

    def advance(self, key: str, nbytes: int) -> None:
        with self._lock:
            if key in self._tasks:
                self._p.advance(self._tasks[key], nbytes)
            self._p.advance(self._total, nbytes)

    def file_done(self, key: str, path: str, status: str) -> None:
        with self._lock:
            f = self._files.get(key)
            if f is not None:
                f[0] += 1
                self._p.update(self._tasks[key], files=f"{f[0]}/{f[1]} files")
            self._tot_files[0] += 1
            self._p.update(self._total, files=f"{self._tot_files[0]}/{self._tot_files[1]} files")

    def recorder_finished(self, key: str, receipt: Receipt) -> None:
        with self._lock:
            task = self._tasks.get(key)
            if task is None:
                return
            verdict = "[green]SAFE TO WIPE" if receipt.safe_to_wipe else "[red]NOT SAFE"
            t = self._p.tasks[task]
            self._p.update(task, completed=t.total, description=f"{t.description} {verdict}")
