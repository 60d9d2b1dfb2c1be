"""Files of a checkout: where a job may run inside it (I4), and removing it afterwards."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra_jobs.git_errors import GitPathRefused

__all__ = ["confine", "remove_tree"]

log = logging.getLogger(__name__)


def confine(root: Path, path: str | None) -> Path:
    """The directory `path` names inside the checkout `root`, after resolving symlinks.

    A repository can contain a symlink to anywhere (`scripts -> /etc`); following it would run
    the job outside the checkout, so the resolved directory must still be inside the resolved
    root. The result is what the job gets as its cwd: it is not looked up again later.
    """
    base = root.resolve()
    if not path:
        return base
    if "\x00" in path:
        raise GitPathRefused("source path must not contain NUL")
    target = (base / path).resolve()
    if not target.is_relative_to(base):
        raise GitPathRefused(
            f"source path {path!r} resolves outside the checkout (through a symlink?); refused"
        )
    if not target.is_dir():
        raise GitPathRefused(f"source path {path!r} is not a directory in the checkout")
    return target


def _make_writable(func: Callable[..., Any], path: str, _exc: object) -> None:
    # Git's object files are read-only, and a job may have made files or directories
    # read-only too: Windows cannot delete a read-only file, nobody can empty a read-only
    # directory. Open up the entry and its parent, then try once more.
    parent = os.path.dirname(path)
    for entry in (parent, path):
        if os.path.isdir(entry) and not os.path.islink(entry):
            os.chmod(entry, stat.S_IRWXU)
        elif os.path.lexists(entry) and not os.path.islink(entry):
            os.chmod(entry, stat.S_IREAD | stat.S_IWRITE)
    func(path)


def _rmtree(path: Path) -> None:
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=_make_writable)
    else:
        shutil.rmtree(path, onerror=_make_writable)


async def remove_tree(path: Path) -> None:
    """Delete a checkout or a broken mirror, in a thread (it can be large); log, never raise."""
    try:
        await asyncio.to_thread(_rmtree, path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning(
            "could not remove %s: %s", path, exc, extra={"action": "git_cleanup", "path": str(path)}
        )
