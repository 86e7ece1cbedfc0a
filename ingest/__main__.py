"""``python -m ingest PATH [--json]``: the ingest command without the rest of the CLI (lean start-up)."""

from __future__ import annotations

import typer

from ingest.cli import ingest_cmd


def main() -> None:
    typer.run(ingest_cmd)


if __name__ == "__main__":
    main()
