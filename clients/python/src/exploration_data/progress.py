"""A tqdm progress bar on downloads when someone is watching: a notebook or a terminal."""

from __future__ import annotations

import sys
from typing import Any


def interactive() -> bool:
    """True in a Jupyter/IPython kernel or when stderr is a terminal."""
    shell = sys.modules.get("IPython")
    if shell is not None:
        get_ipython = getattr(shell, "get_ipython", None)
        if get_ipython is not None and get_ipython() is not None:
            return True
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def progress_bar(total: int, description: str, enabled: bool | None) -> Any:
    """A byte-counting bar (``update(n)``, ``close()``); silent unless enabled.

    Args:
        total: bytes expected in all.
        description: what is downloaded.
        enabled: True/False to force it; None: on when ``interactive()``.
    """
    from tqdm.auto import tqdm

    show = interactive() if enabled is None else enabled
    return tqdm(
        total=total,
        desc=description,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        disable=not show,
        leave=False,
    )
