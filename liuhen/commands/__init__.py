"""The application shell's CLI commands, one module per area; each exposes ``register(app)``."""
