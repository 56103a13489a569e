"""Accounting platforms → one domain model (see :mod:`connectors.model`)."""
