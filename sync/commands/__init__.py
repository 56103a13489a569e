"""One module per ``encours`` command, each with ``register(subparsers)``."""
