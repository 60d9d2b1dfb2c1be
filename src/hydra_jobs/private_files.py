"""Directories and files only their owner may read: the data dir, the admin token, the database.

Whoever else can log in to the host (or any job once jobs run as their own user, HYDRA_RUN_AS)
must not read `hydra.db` (every domain's jobs and env) or `admin_token`. Modes are set
explicitly, not left to the umask, and an existing directory or file is tightened at start.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

__all__ = ["PRIVATE_DIR_MODE", "PRIVATE_FILE_MODE", "passable_dir", "private_dir", "private_file"]

PRIVATE_DIR_MODE = 0o700
PASSABLE_DIR_MODE = 0o711  # others may pass through to a name they know, never list it
PRIVATE_FILE_MODE = 0o600
_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents, as mkdir -p does) and leave it 0700."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, PRIVATE_DIR_MODE)
    return path


def passable_dir(path: Path) -> Path:
    """Create `path` (and missing parents, 0711 too) and leave it exactly 0711: where jobs
    running as another user reach their own run's directory, whose name they are given."""
    missing = [p for p in [path, *path.parents] if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=PASSABLE_DIR_MODE, exist_ok=True)
        directory.chmod(PASSABLE_DIR_MODE)  # whatever the umask
    if os.name == "posix" and path.stat().st_uid == os.geteuid():
        path.chmod(PASSABLE_DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty if missing; either way leave it 0600 (SQLite gives its -wal and -shm
    files the mode of the database file, so they follow)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    _tighten(path, PRIVATE_FILE_MODE)
    return path


def _tighten(path: Path, mode: int) -> None:
    if os.name != "posix":
        return  # Windows: the per-user profile directory's ACL is what protects it
    current = path.stat()
    if current.st_mode & _OTHERS and current.st_uid == os.geteuid():
        path.chmod(mode)
