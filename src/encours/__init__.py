"""encours: accounts-receivable follow-up in the spreadsheet you already use.

The design card's folders at the repository root install as the subpackages of this one
namespace: ``encours.connectors``, ``encours.sheets_addin``, ``encours.scenarios`` and
``encours.sync`` (see ``[tool.setuptools.package-dir]`` in pyproject.toml).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("encours")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "dev"
