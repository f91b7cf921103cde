"""Where the rule and code-set data lives: the shipped ``maps/`` and the operator's data folder.

In a source checkout the shipped data sits in ``maps/`` beside the package; an installed package
carries the same folder as ``scrubber/maps`` (see ``[tool.setuptools]`` in pyproject.toml). Only
data lives there, never code, and nothing ever writes into it.

Code sets that operators update (``scrubber codesets add``) go to the *data folder*, laid over the
shipped ``maps/`` file by file (same relative paths): a file present there is read instead of the
shipped one. The data folder is, in this order:

1. ``--data-dir DIR`` on the command line (:func:`set_data_dir`);
2. the environment variable ``SCRUBBER_DATA_DIR``;
3. ``[options] data_dir`` in the configuration (:func:`set_config_data_dir`);
4. the per-user data folder: ``$XDG_DATA_HOME/x12-scrubber``, else ``~/.local/share/x12-scrubber``.

The service units set ``SCRUBBER_DATA_DIR`` to a folder the service user owns. Loaders that cache
what they read register a reset with :func:`on_change`, so that choosing another data folder
reloads them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

_MARKER = "MAPS.md"
ENV_DATA_DIR = "SCRUBBER_DATA_DIR"
APP_NAME = "x12-scrubber"

_cli_dir: Path | None = None
_config_dir: Path | None = None
_listeners: list[Callable[[], None]] = []


@lru_cache(maxsize=1)
def maps_dir() -> Path:
    """The shipped ``maps/`` folder (read only)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "maps", here.parent / "maps"):
        if (candidate / _MARKER).is_file():
            return candidate
    raise FileNotFoundError(
        "the scrubber's data folder (maps/) is missing from this installation; reinstall the package"
    )


def shipped_path(*parts: str) -> Path:
    """Path of one file under the shipped ``maps/``."""
    return maps_dir().joinpath(*parts)


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "share"
    return root / APP_NAME


def data_dir() -> Path:
    """The operator's data folder (may not exist yet)."""
    if _cli_dir is not None:
        return _cli_dir
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env)
    if _config_dir is not None:
        return _config_dir
    return default_data_dir()


def data_dir_origin() -> str:
    """Where :func:`data_dir` came from, for ``scrubber codesets``."""
    if _cli_dir is not None:
        return "--data-dir"
    if os.environ.get(ENV_DATA_DIR):
        return ENV_DATA_DIR
    if _config_dir is not None:
        return "[options] data_dir"
    return "per-user default"


def _changed() -> None:
    for fn in list(_listeners):
        fn()


def set_data_dir(path: str | Path | None) -> None:
    """The data folder given on the command line (None: none given)."""
    global _cli_dir
    new = Path(path).expanduser() if path else None
    if new != _cli_dir:
        _cli_dir = new
        _changed()


def set_config_data_dir(path: str | Path | None) -> None:
    """The data folder named by the configuration's ``[options] data_dir`` (None: none)."""
    global _config_dir
    new = Path(path).expanduser() if path else None
    if new != _config_dir:
        _config_dir = new
        _changed()


def on_change(fn: Callable[[], None]) -> Callable[[], None]:
    """Call ``fn`` (a cache reset) whenever the data folder changes. Returns ``fn``."""
    _listeners.append(fn)
    return fn


def overlay_path(*parts: str) -> Path | None:
    """The data folder's copy of one file when it has one, else None."""
    p = data_dir().joinpath(*parts)
    return p if p.is_file() else None


def map_path(*parts: str) -> Path:
    """Path of one data file: the data folder's copy when present, else the shipped one."""
    return overlay_path(*parts) or shipped_path(*parts)
