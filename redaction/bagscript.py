"""The one-file redaction verifier that disclosure bags carry beside the stdlib bag verifier.

``verifier.py`` imports the region evaluation from ``regions_core``; the bag copy inlines it, so the
script needs nothing but Python ≥ 3.11, numpy and an ffmpeg binary (``--ffmpeg PATH``, ``$LIUHEN_FFMPEG``,
``ffmpeg`` on PATH, or imageio-ffmpeg when installed).
"""

from __future__ import annotations

from importlib import resources

SCRIPT_NAME = "verify_redaction.py"
_IMPORT = "from liuhen.redaction.regions_core import RegionsInvalid, active, audio_ranges, digest, validate\n"


def bag_script() -> str:
    """Source of ``verify_redaction.py`` (verifier + inlined regions_core)."""
    pkg = resources.files("liuhen.redaction")
    verifier = pkg.joinpath("verifier.py").read_text("utf-8")
    core = pkg.joinpath("regions_core.py").read_text("utf-8")
    if _IMPORT not in verifier:
        raise RuntimeError("verifier.py no longer imports regions_core the expected way; update bagscript")
    body = core.split("from __future__ import annotations\n", 1)[1]
    header = "# --- inlined from liuhen/redaction/regions_core.py ---\n"
    return verifier.replace(_IMPORT, header + body.strip() + "\n# --- end of regions_core ---\n", 1)
