"""The core: errors, configuration and small shared helpers. Imports nothing first-party."""
