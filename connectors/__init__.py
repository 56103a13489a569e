"""Accounting platforms → one domain model (see :mod:`encours.connectors.model`)."""
