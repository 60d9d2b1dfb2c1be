"""Each run's private directory: its TMPDIR and its #! script file, removed when the run ends.

The shared /tmp lets every job read what another left there; a run space is reachable only by
its own run: by file mode when jobs run as another user than the worker (HYDRA_RUN_AS: the space
is theirs, 0700, in a root directory they may pass through but not list), and by Landlock
(`confine.py`) when they run as the worker's own user.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hydra_jobs.private_files import passable_dir, private_dir
from hydra_jobs.worker.run_as import RunAs, give_to

__all__ = ["SPACE_TMP", "RunSpaces"]

SPACE_TMP = "tmp"  # the run's TMPDIR inside its space


class RunSpaces:
    def __init__(self, root: Path, run_as: RunAs | None) -> None:
        self.run_as = run_as
        self.root = passable_dir(root) if run_as is not None else private_dir(root)

    @contextlib.contextmanager
    def open(self, run_id: str) -> Iterator[Path]:
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in run_id)[:64]
        with tempfile.TemporaryDirectory(
            prefix=f"hydra-run-{safe}-", dir=self.root, ignore_cleanup_errors=True
        ) as directory:
            space = Path(directory)
            (space / SPACE_TMP).mkdir(mode=0o700)
            self.hand_over(space)
            yield space

    def hand_over(self, path: Path) -> None:
        """Give `path` (and what it holds) to the jobs' user, if they have their own."""
        if self.run_as is not None:
            give_to(path, self.run_as)
