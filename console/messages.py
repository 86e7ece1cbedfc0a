"""Message extraction for the catalogs: every ``_()`` in the templates and every ``N_()`` in ``labels.py``.

``python -m liuhen.console.messages`` rewrites ``locale/*/LC_MESSAGES/console.po`` keeping existing
translations (new ids get an empty ``msgstr`` — for zh_CN that is a missing translation, which the
tests refuse). English is the source language: ``en`` msgstr are the ids themselves.
"""

from __future__ import annotations

import sys

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from liuhen.console.config import LANGUAGES
from liuhen.console.i18n import HERE, po_path

METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("labels.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True", "lstrip_blocks": "True"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def extract() -> dict[str, list[str]]:
    """msgid → the places it occurs."""
    out: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _ctx in extract_from_dir(
        str(HERE), METHODS, options_map=OPTIONS, keywords=KEYWORDS
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for m in ids:
            if m:
                out.setdefault(m, []).append(f"{filename}:{lineno}")
    return out


def load(lang: str) -> Catalog:
    with po_path(lang).open("rb") as f:
        return read_po(f, locale=lang)


def update() -> dict[str, int]:
    """Rewrite every language's .po with exactly the extracted ids; returns missing translations per language."""
    ids = extract()
    missing: dict[str, int] = {}
    for lang in LANGUAGES:
        old = load(lang) if po_path(lang).exists() else Catalog(locale=lang)
        new = Catalog(locale=lang, domain="console", project="Liuhen console", charset="utf-8")
        for mid in sorted(ids):
            prev = old.get(mid)
            text = (prev.string if prev is not None else "") or (mid if lang == "en" else "")
            new.add(mid, text, locations=[(p.rsplit(":", 1)[0], int(p.rsplit(":", 1)[1])) for p in ids[mid][:3]])
        missing[lang] = sum(1 for m in new if m.id and not m.string)
        po_path(lang).parent.mkdir(parents=True, exist_ok=True)
        with po_path(lang).open("wb") as f:
            write_po(f, new, width=120, omit_header=False, sort_output=True)
    return missing


if __name__ == "__main__":
    print(update(), file=sys.stderr)
