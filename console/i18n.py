"""Message catalogs (Babel ``.po`` files shipped in the package, compiled in memory at first use) and the
Jinja2 environments: one per language, templates use ``{{ _("…") }}`` and never carry literal text."""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2 import Environment, FileSystemLoader, select_autoescape

from liuhen.console.config import LANGUAGES

HERE = Path(__file__).resolve().parent
LOCALE_DIR = HERE / "locale"
TEMPLATE_DIR = HERE / "templates"
DOMAIN = "console"


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> gettext.GNUTranslations:
    """The compiled catalog of ``lang`` (``.po`` → ``.mo`` bytes in memory through Babel)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown console language {lang!r}")
    with po_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


@lru_cache(maxsize=len(LANGUAGES))
def environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals["lang"] = lang
    env.globals["html_lang"] = "zh-CN" if lang == "zh_CN" else "en"
    return env


def negotiate(query_lang: str | None, cookie_lang: str | None, default: str) -> str:
    """The language to use: an explicit ``?lang=``, else the cookie, else the configured default."""
    for cand in (query_lang, cookie_lang):
        if cand in LANGUAGES:
            return str(cand)
    return default


def gettext_for(lang: str):  # type: ignore[no-untyped-def]
    return translations(lang).gettext
