"""The rules for a job's git source URL and ref (I2 in docs/reliability.md); pure, no I/O.

Git reads many strings as more than data: a URL starting with `-` is an option
(`--upload-pack=...`, GitPython CVE-2022-24439), `ext::cmd` runs a command, a host starting with
`-` reaches ssh as an option (CVE-2017-1000117), `host:path` silently means ssh. So URLs and refs
are parsed against an allow-list here: by the API when a job is saved (`job_spec.Source`, a 422
naming the field) and by the worker again before it runs git (`worker/git/source.py`). The
addresses a host resolves to are checked by the worker (`worker/git/hosts.py`, I3).
"""

from __future__ import annotations

import ntpath
import posixpath
import re
import sys
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import ip_address
from urllib.parse import urlsplit

from hydra_jobs.git_errors import GitInputRefused, redact

__all__ = [
    "RepoKind",
    "RepoUrl",
    "check_ref",
    "is_abbreviated_sha",
    "is_full_sha",
    "parse_repo_url",
    "ref_problem",
]

MAX_URL_CHARS = 2048
MAX_REF_CHARS = 255

# git's own rule for `<transport>::<address>` (remote helpers such as ext::, fd::).
_HELPER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+.-]*::")
_SCP_RE = re.compile(
    r"^(?P<user>[A-Za-z0-9_][A-Za-z0-9._~+-]*)@(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<path>.+)$"
)
# One optional user-info part (a second `@` is a parser-differential trick), a host, a port.
_NETLOC_RE = re.compile(
    r"^(?:[A-Za-z0-9._~%!$&'()*+,;=:-]+@)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?$"
)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME_RE = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$")
_FULL_SHA_RE = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_ABBREV_SHA_RE = re.compile(r"^[0-9a-f]{7,63}$")
# check-ref-format: no control characters, space, ~ ^ : ? * [ or backslash.
_REF_FORBIDDEN_RE = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


class RepoKind(StrEnum):
    HTTPS = "https"
    SSH = "ssh"
    FILE = "file"


DEFAULT_PORTS = {RepoKind.HTTPS: 443, RepoKind.SSH: 22}


@dataclass(frozen=True, slots=True)
class RepoUrl:
    url: str
    kind: RepoKind
    host: str | None = None  # lower case, without IPv6 brackets; None for file
    port: int | None = None

    @property
    def display(self) -> str:
        """The URL as it may appear in errors and logs: credentials hidden."""
        return redact(self.url)


def parse_repo_url(url: str, *, allow_file: bool, platform: str = sys.platform) -> RepoUrl:
    """Classify `url` as https, ssh or file, or raise `GitInputRefused` saying why not."""
    if not url or len(url) > MAX_URL_CHARS:
        raise GitInputRefused(f"git URL must have 1 to {MAX_URL_CHARS} characters")
    if url.startswith("-"):
        raise GitInputRefused("git URL must not start with '-'")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise GitInputRefused("git URL must not contain spaces or control characters")
    if _HELPER_RE.match(url):
        raise GitInputRefused("git transport helpers such as 'ext::' are not allowed")
    if "://" in url:
        return _parse_scheme_url(url, allow_file)
    if _is_absolute_path(url, platform):
        return _file_url(url, allow_file)
    scp = _SCP_RE.match(url)
    if scp is None:
        # Git reads `host:path` as ssh and anything else here as a path relative to the worker.
        raise GitInputRefused("use an https:// or ssh:// URL, or user@host:path")
    host = scp["host"].lower().strip("[]")
    _check_host_syntax(host)
    return RepoUrl(url, RepoKind.SSH, host)


def _parse_scheme_url(url: str, allow_file: bool) -> RepoUrl:
    scheme = url.split("://", 1)[0].lower()
    if scheme == "file":
        return _file_url(url, allow_file)
    if scheme not in (RepoKind.HTTPS, RepoKind.SSH):
        raise GitInputRefused(f"git URL scheme {scheme!r} is not allowed; use https:// or ssh://")
    if "?" in url or "#" in url:
        raise GitInputRefused("git URL must not contain '?' or '#'")
    parts = urlsplit(url)
    if not _NETLOC_RE.match(parts.netloc):
        raise GitInputRefused("git URL has an invalid host part")
    if parts.username is not None and parts.username.startswith("-"):
        raise GitInputRefused("git URL user name must not start with '-'")
    try:
        port = parts.port
    except ValueError as exc:
        raise GitInputRefused("git URL has an invalid port") from exc
    host = parts.hostname or ""
    _check_host_syntax(host)
    return RepoUrl(url, RepoKind(scheme), host, port)


def _file_url(url: str, allow_file: bool) -> RepoUrl:
    if not allow_file:
        raise GitInputRefused(
            "file:// URLs and local paths are disabled on this worker: start it with "
            "HYDRA_GIT_ALLOW_FILE=true to allow them (a job could then read any repository on "
            "the worker's disk)"
        )
    return RepoUrl(url, RepoKind.FILE)


def _is_absolute_path(url: str, platform: str) -> bool:
    # Drive letters are paths only on Windows: elsewhere git reads `C:x` as ssh to host `C`.
    if platform == "win32":
        return ntpath.isabs(url)
    return posixpath.isabs(url)


def _check_host_syntax(host: str) -> None:
    if not host:
        raise GitInputRefused("git URL has no host")
    if host.startswith("-"):
        raise GitInputRefused("git host must not start with '-'")
    try:
        ip_address(host)
    except ValueError:
        if not _HOSTNAME_RE.match(host):
            raise GitInputRefused(f"git host {host!r} is not a valid host name") from None


# refs ----------------------------------------------------------------------------------------


def is_full_sha(ref: str) -> bool:
    return bool(_FULL_SHA_RE.match(ref))


def is_abbreviated_sha(ref: str) -> bool:
    return bool(_ABBREV_SHA_RE.match(ref))


def ref_problem(ref: str) -> str | None:
    """What makes `ref` unusable as a branch, tag or commit name (git check-ref-format rules,
    one-level names allowed), or None. Stricter than git where git's leniency is a risk."""
    if not ref or len(ref) > MAX_REF_CHARS:
        return f"must have 1 to {MAX_REF_CHARS} characters"
    if ref.startswith(("-", "+")):  # an option to git, or a forced refspec
        return "must not start with '-' or '+'"
    if _REF_FORBIDDEN_RE.search(ref):
        return "must not contain spaces, control characters or any of ~ ^ : ? * [ \\"
    if ref == "@" or "@{" in ref:
        return "must not be '@' or contain '@{'"
    if ref.startswith("/") or ref.endswith(("/", ".")) or "//" in ref or ".." in ref:
        return "must not start or end with '/', end with '.', or contain '//' or '..'"
    for part in ref.split("/"):
        if part.startswith(".") or part.endswith(".lock"):
            return "no part may start with '.' or end with '.lock'"
    return None


def check_ref(ref: str | None) -> str | None:
    """The ref to check out (a full SHA in lower case), None for the remote's HEAD; or raise."""
    if ref is None:
        return None
    if is_full_sha(ref.lower()):
        return ref.lower()
    problem = ref_problem(ref)
    if problem is not None:
        raise GitInputRefused(f"git ref {ref!r} is not valid: it {problem}")
    return ref
