"""Where an environment's PyPI layer is resolved from: its package indexes.

A value of the composition model (``pip-repositories`` / ``allow-pypi-requests``,
see :mod:`twinlock.model.composition`) that keeps credentials out of every lock and
input hash: indexes are recorded without their ``user:password@`` part.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PypiIndexes:
    """Where the PyPI layer is resolved from: conda-lock's ``pip-repositories`` and
    ``allow-pypi-requests``.

    URLs are kept as written; credentials in them are ``$VARIABLES`` expanded only when
    uv runs, and :meth:`recorded` (what locks and input hashes see) drops the user part.
    """

    urls: tuple[str, ...] = ()
    allow_pypi: bool = True

    @property
    def default(self) -> bool:
        """True for plain pypi.org (nothing to record)."""
        return not self.urls and self.allow_pypi

    def recorded(self) -> tuple[str, ...]:
        """The indexes without credentials, ``pypi.org`` last when it is allowed."""
        stripped = tuple(strip_credentials(u) for u in self.urls)
        return (*stripped, "https://pypi.org/simple") if self.allow_pypi else stripped


def strip_credentials(url: str) -> str:
    """*url* without its ``user:password@`` part."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    host, slash, path = rest.partition("/")
    return f"{scheme}://{host.rsplit('@', 1)[-1]}{slash}{path}"
