"""encours: accounts-receivable follow-up in the spreadsheet you already use.

The design card's folders at the repository root install as the subpackages of this one
namespace: ``encours.connectors``, ``encours.sheets_addin``, ``encours.scenarios`` and
``encours.sync`` (see ``[tool.setuptools.package-dir]`` in pyproject.toml).
"""

from __future__ import annotations


def version() -> str:
    """The installed distribution's version ("dev" from a source tree that is not installed).

    Read on demand: importlib.metadata costs a quarter of a second that ``encours --help`` need not pay.
    """
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("encours")
    except PackageNotFoundError:
        return "dev"
