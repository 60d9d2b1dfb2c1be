"""Why a job's git source could not be prepared. Each message is shown to users as the run's
`error`, so it says what went wrong in one line: no stack trace, no credentials."""

from __future__ import annotations

import re

from hydra_jobs.errors import HydraError

__all__ = [
    "GitCancelled",
    "GitFetchFailed",
    "GitInputRefused",
    "GitPathRefused",
    "GitRefNotFound",
    "GitSourceError",
    "GitTimeout",
    "redact",
]

# `scheme://user:token@host`: everything between `//` and `@` may be a credential.
_USERINFO_RE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
MAX_DETAIL_CHARS = 300


def redact(text: str) -> str:
    """Hide the user-info part of every URL in `text` (tokens are often passed that way)."""
    return _USERINFO_RE.sub(r"\g<scheme>***@", text)


class GitSourceError(HydraError):
    """The job's git source could not be prepared."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(redact(message) if message else None)


class GitInputRefused(GitSourceError):
    """The git source was refused before git ran."""


class GitFetchFailed(GitSourceError):
    """The git repository could not be fetched."""


class GitRefNotFound(GitSourceError):
    """The requested ref does not exist in the repository."""


class GitPathRefused(GitSourceError):
    """The source path is not a directory inside the checkout."""


class GitTimeout(GitSourceError):
    """Preparing the git source took longer than the worker allows."""


class GitCancelled(GitSourceError):
    """The run was stopped while its git source was being prepared."""
