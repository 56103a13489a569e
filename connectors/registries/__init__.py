"""Public French registries: company status (recherche-entreprises) and BODACC announcements.

Both are open data, need no key, and publish rate limits that :class:`~connectors.registries.client.Pacer`
keeps to.  Answers become :class:`~connectors.registries.signals.RiskSignal` records.
"""
