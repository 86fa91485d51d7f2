"""Where the project's files are: one answer for a checkout, an installed package and a chosen directory.

The ontology, the data and the named queries are read from ROOT, which holds `ontology/`, `data/` and `queries/`:
`$KG_HOME` if set; else the checkout this module runs from (the repository, as `make` and the tests use it); else
the copy shipped inside the installed package (`kg/resources/`, mapped there by pyproject.toml). Closures are cached
in `$KG_CACHE_DIR`, else `.cache/` of a checkout, else the user's cache directory (an installed package is never
written to).
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parents[1]  # src/kg -> the repository
MARKER = Path("ontology") / "ct.ttl"


def _root() -> Path:
    if os.environ.get("KG_HOME"):
        return Path(os.environ["KG_HOME"])
    if (_CHECKOUT / MARKER).is_file() and (_CHECKOUT / "pyproject.toml").is_file():
        return _CHECKOUT
    return _PACKAGE / "resources"


ROOT = _root()
INSTALLED = ROOT == _PACKAGE / "resources"


def cache_dir() -> Path:
    """Where closures are cached (see the module's docstring)."""
    if os.environ.get("KG_CACHE_DIR"):
        return Path(os.environ["KG_CACHE_DIR"])
    if INSTALLED:
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "morocco-ct-kg"
    return ROOT / ".cache"
