"""A tqdm progress bar on downloads when someone is watching: a notebook or a terminal."""

from __future__ import annotations

import sys
import threading
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
    bar = tqdm(
        total=total,
        desc=description,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        disable=not show,
        leave=False,
    )
    return _SharedBar(bar)


class _SharedBar:
    """A tqdm bar that parallel downloads update from their threads."""

    def __init__(self, bar: Any) -> None:
        self._bar = bar
        self._lock = threading.Lock()

    def update(self, n: int) -> None:
        """Counts ``n`` more bytes (fewer when negative)."""
        with self._lock:
            self._bar.update(n)

    def close(self) -> None:
        """Removes the bar."""
        with self._lock:
            self._bar.close()
