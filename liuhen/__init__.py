"""Liuhen (留痕): the application shell — configuration, errors, CLI, embedded components, demo."""

__version__ = "0.1.0"
