"""Message catalogs: every message id of the templates and labels is translated for zh_CN; templates carry no
literal text outside ``_()`` (the only allowed literals are digest names, the language names and punctuation)."""

from __future__ import annotations

import re

from liuhen.console import i18n, messages

ALLOWED = {"SHA-256", "SM3", "简体中文", "English", "#", "s", "MB"}


def test_every_message_is_translated_in_zh_cn() -> None:
    ids = messages.extract()
    zh = messages.load("zh_CN")
    missing = [m for m in ids if not (zh.get(m) and zh.get(m).string)]
    assert missing == []
    assert i18n.translations("zh_CN").gettext("Sign in") == "登录"
    assert i18n.translations("en").gettext("Sign in") == "Sign in"


def test_templates_have_no_hard_coded_text() -> None:
    for path in sorted(i18n.TEMPLATE_DIR.glob("*.html")):
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", " ", path.read_text(), flags=re.S)
        text = re.sub(r"<[^>]*>", " ", text)
        words = {w for w in re.split(r"[\s·–—:()…,/.→]+", text) if re.search(r"[A-Za-z\u4e00-\u9fff]", w)}
        assert words <= ALLOWED, f"{path.name}: literal text {sorted(words - ALLOWED)}"
