"""Git source inputs are refused before git runs (I2, I3 in docs/reliability.md), and what runs
git is locked down: real `git` where git is involved, real files for locks and checkout paths."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hydra_jobs.git_errors import (
    GitCancelled,
    GitFetchFailed,
    GitInputRefused,
    GitPathRefused,
    GitTimeout,
    redact,
)
from hydra_jobs.git_inputs import (
    RepoKind,
    RepoUrl,
    check_ref,
    parse_repo_url,
    ref_problem,
)
from hydra_jobs.job_spec import Source
from hydra_jobs.worker.git.cache import RepoCache
from hydra_jobs.worker.git.checkout_files import confine
from hydra_jobs.worker.git.command import Deadline, GitRunner, git_env, hardening_config
from hydra_jobs.worker.git.hosts import address_problem, resolve_host
from hydra_jobs.worker.git.lock import lock_now, repo_lock, unlock_and_close
from hydra_jobs.worker.git.options import GitOptions
from hydra_jobs.worker.git.source import open_checkout, pinned_resolution

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git binary")
SHA1 = "0123456789abcdef0123456789abcdef01234567"
SHA256 = "0123456789abcdef" * 4


# URLs (I2) ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kind", "host", "port"),
    [
        ("https://github.com/org/repo.git", RepoKind.HTTPS, "github.com", None),
        ("https://GitHub.com:8443/org/repo", RepoKind.HTTPS, "github.com", 8443),
        ("ssh://git@example.org:2222/org/repo.git", RepoKind.SSH, "example.org", 2222),
        ("git@github.com:org/repo.git", RepoKind.SSH, "github.com", None),
        ("git@[2001:db8::1]:org/repo.git", RepoKind.SSH, "2001:db8::1", None),
        ("https://[2001:db8::1]/repo.git", RepoKind.HTTPS, "2001:db8::1", None),
    ],
)
def test_allowed_urls(url: str, kind: RepoKind, host: str, port: int | None) -> None:
    repo = parse_repo_url(url, allow_file=False)
    assert (repo.kind, repo.host, repo.port) == (kind, host, port)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("--upload-pack=touch /tmp/pwned", "'-'"),
        ("-oProxyCommand=touch /tmp/pwned", "'-'"),
        ("--upload-pack=touch%20/tmp/pwned", "'-'"),
        ("ext::sh -c touch% /tmp/pwned", "spaces"),  # refused for two reasons; either is fine
        ("ext::sh", "transport helpers"),
        ("fd::17", "transport helpers"),
        ("myhelper::https://example.org/r", "transport helpers"),
        ("http://example.org/r.git", "scheme 'http'"),
        ("git://example.org/r.git", "scheme 'git'"),
        ("ftp://example.org/r.git", "scheme 'ftp'"),
        ("ssh://-oProxyCommand=touch%20x/r", "invalid host"),
        ("ssh://-host/r", "'-'"),
        ("ssh://-user@example.org/r", "user name"),
        ("git@-oProxyCommand=x:repo", "user@host:path"),
        ("-user@example.org:repo", "'-'"),
        ("example.org:org/repo.git", "user@host:path"),  # git would use ssh without asking
        ("C:/repo", "user@host:path"),  # on Linux git reads this as ssh to host C
        ("relative/repo", "user@host:path"),
        ("https://a@b@127.0.0.1/r.git", "invalid host"),
        ("https://evil.example\\@127.0.0.1/r.git", "invalid host"),
        ("https://example.org/r.git?x=1", "'?'"),
        ("https://example.org/r.git#frag", "'#'"),
        ("https://example.org/r\n.git", "control"),
        ("https://example.org:99999/r.git", "port"),
        ("https:///r.git", "invalid host"),
        ("https://exa_mple.org/r.git", "invalid host"),
        ("https://exa..mple.org/r.git", "not a valid host"),
        ("", "1 to"),
        ("https://example.org/" + "x" * 2048, "1 to"),
    ],
)
def test_refused_urls(url: str, reason: str) -> None:
    with pytest.raises(GitInputRefused) as exc:
        parse_repo_url(url, allow_file=True, platform="linux")
    assert reason in exc.value.message


@pytest.mark.parametrize("url", ["file:///srv/repo.git", "FILE:///srv/repo.git", "/srv/repo.git"])
def test_file_urls_need_the_operator(url: str) -> None:
    with pytest.raises(GitInputRefused, match="start it with HYDRA_GIT_ALLOW_FILE=true"):
        parse_repo_url(url, allow_file=False)
    assert parse_repo_url(url, allow_file=True).kind is RepoKind.FILE


def test_windows_paths_are_local_only_on_windows() -> None:
    assert parse_repo_url("C:\\repos\\r", allow_file=True, platform="win32").kind is RepoKind.FILE
    with pytest.raises(GitInputRefused, match="HYDRA_GIT_ALLOW_FILE"):
        parse_repo_url("C:/repos/r", allow_file=False, platform="win32")
    with pytest.raises(GitInputRefused):
        parse_repo_url("C:/repos/r", allow_file=True, platform="linux")


def test_credentials_never_appear_in_messages() -> None:
    repo = parse_repo_url("https://user:s3cret@example.org/r.git", allow_file=False)
    assert repo.display == "https://***@example.org/r.git"
    assert redact("fatal: unable to access 'https://tok@h/x': 403") == (
        "fatal: unable to access 'https://***@h/x': 403"
    )
    assert "s3cret" not in GitFetchFailed("could not fetch https://u:s3cret@h/x").message


# refs (I2) ------------------------------------------------------------------------------------


VALID_REFS = [
    "main",
    "feature/x-1",
    "v1.0.2",
    "refs/heads/main",
    "refs/pull/12/head",
    "HEAD",
    "a@b",
]


@pytest.mark.parametrize("ref", VALID_REFS)
def test_valid_refs(ref: str) -> None:
    assert check_ref(ref) == ref


def test_shas_are_commits_in_lower_case() -> None:
    assert check_ref(SHA1.upper()) == SHA1
    assert check_ref(SHA256) == SHA256
    assert check_ref(None) is None


BAD_REFS = [
    "-x",
    "--upload-pack=touch /tmp/pwned",
    "--output=/tmp/x",
    "+main",
    "a..b",
    "a b",
    "a~1",
    "a^{tree}",
    "a:b",
    "a?",
    "a*",
    "a[1]",
    "a\\b",
    "@",
    "main@{1}",
    "/main",
    "main/",
    "a//b",
    "main.",
    ".hidden",
    "a/.b",
    "main.lock",
    "a/b.lock/c",
    "a\x00b",
    "a\tb",
    "a\x7fb",
    "",
    "x" * 256,
]


@pytest.mark.parametrize("ref", BAD_REFS)
def test_invalid_refs(ref: str) -> None:
    with pytest.raises(GitInputRefused, match="git ref"):
        check_ref(ref)


@needs_git
@pytest.mark.parametrize(
    "ref", VALID_REFS + [r for r in BAD_REFS if r and not r.startswith("-") and "\x00" not in r]
)
def test_ref_rules_are_at_least_as_strict_as_git(ref: str) -> None:
    """Whatever we accept, `git check-ref-format` accepts too."""
    git = subprocess.run(
        ["git", "check-ref-format", "--allow-onelevel", ref], capture_output=True, check=False
    )
    if ref_problem(ref) is None:
        assert git.returncode == 0, ref


# hosts (I3) -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.3.4", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
    ],
)
def test_blocked_addresses(address: str, why: str) -> None:
    assert address_problem(address) == why


@pytest.mark.parametrize("address", ["93.184.215.14", "10.1.2.3", "192.168.1.10", "2606:4700::1"])
def test_ordinary_addresses(address: str) -> None:
    assert address_problem(address) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/r.git",
        "https://localhost/r.git",
        "ssh://git@localhost/r.git",
        "git@169.254.169.254:r.git",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]:8443/r.git",
        "https://[fe80::1]/r.git",
        "https://0.0.0.0/r.git",
        "https://[::ffff:127.0.0.1]/r.git",
        "https://2130706433/r.git",  # decimal for 127.0.0.1
        "https://127.1/r.git",  # short form of 127.0.0.1
        "https://0x7f000001/r.git",
    ],
)
async def test_private_hosts_refused_unless_allowed(url: str) -> None:
    repo = parse_repo_url(url, allow_file=False)
    with pytest.raises(GitInputRefused, match="HYDRA_GIT_ALLOW_PRIVATE_HOSTS"):
        await resolve_host(repo, allow_private_hosts=False)
    assert await resolve_host(repo, allow_private_hosts=True) == ()


async def test_public_literal_address_passes() -> None:
    repo = parse_repo_url("https://93.184.215.14/r.git", allow_file=False)
    assert await resolve_host(repo, allow_private_hosts=False) == ("93.184.215.14",)


def test_https_connections_are_pinned_to_the_checked_addresses() -> None:
    """Against DNS rebinding: git connects to the addresses we checked, not a second answer."""
    repo = parse_repo_url("https://git.example.org/r.git", allow_file=False)
    assert pinned_resolution(repo, ("93.184.215.14", "2606:4700::1")) == [
        "-c",
        "http.curloptResolve=git.example.org:443:93.184.215.14,[2606:4700::1]",
    ]
    with_port = parse_repo_url("https://git.example.org:8443/r.git", allow_file=False)
    assert pinned_resolution(with_port, ("10.0.0.5",))[1].endswith(":8443:10.0.0.5")
    literal = parse_repo_url("https://93.184.215.14/r.git", allow_file=False)
    assert pinned_resolution(literal, ("93.184.215.14",)) == []
    assert pinned_resolution(repo, ()) == []  # private hosts allowed: nothing was checked


async def test_unresolvable_host_is_refused() -> None:
    repo = parse_repo_url("https://no-such-host.invalid/r.git", allow_file=False)
    with pytest.raises(GitInputRefused, match="cannot resolve"):
        await resolve_host(repo, allow_private_hosts=False)


# refused before git runs, and git itself refuses too --------------------------------------------


@pytest.mark.parametrize(
    ("source", "options"),
    [
        (Source.model_construct(url="ext::sh -c touch% {marker}", ref=None, path=None), {}),
        (Source.model_construct(url="--upload-pack=touch {marker}", ref=None, path=None), {}),
        (
            Source.model_construct(
                url="file:///nowhere", ref="--upload-pack=touch {marker}", path=None
            ),
            {"allow_file": True},
        ),
        (Source.model_construct(url="file:///nowhere", ref=None, path=None), {}),
        (Source.model_construct(url="https://127.0.0.1/r.git", ref=None, path=None), {}),
    ],
)
async def test_open_checkout_refuses_before_git_runs(
    tmp_path: Path, source: Source, options: dict[str, bool]
) -> None:
    """Even with the API's validation bypassed (a forged queue entry, A4), the worker refuses
    on its own, and nothing reaches git: the cache directory is never even created."""
    marker = tmp_path / "pwned"
    forged = Source.model_construct(
        url=source.url.replace("{marker}", str(marker)),
        ref=source.ref.replace("{marker}", str(marker)) if source.ref else None,
        path=None,
    )
    cache = tmp_path / "cache"
    opts = GitOptions(cache_dir=cache, **options)
    with pytest.raises(GitInputRefused):
        async with open_checkout(forged, opts, "run-1", asyncio.Event()):
            pytest.fail("must not get a checkout")
    assert not marker.exists() and not cache.exists()


def _runner(allow_file: bool, seconds: float = 30.0) -> GitRunner:
    config = hardening_config(allow_file=allow_file, follow_redirects=False)
    return GitRunner(config=config, deadline=Deadline(seconds), cancel=asyncio.Event())


@needs_git
async def test_git_refuses_ext_even_if_validation_were_bypassed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    out = await _runner(allow_file=True).run(
        ["ls-remote", "--", f"ext::sh -c touch% {marker}"], cwd=tmp_path
    )
    assert not out.ok and "not allowed" in out.output
    assert not marker.exists()


@needs_git
async def test_git_refuses_file_when_not_enabled(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    out = await _runner(allow_file=False).run(["ls-remote", "--", origin.as_uri()], cwd=tmp_path)
    assert not out.ok and "transport 'file' not allowed" in out.output


@needs_git
async def test_a_dash_url_reaching_fetch_is_a_path_not_an_option(tmp_path: Path) -> None:
    """The fetch puts `--` before the URL: `--upload-pack=...` can only ever be a repository."""
    marker = tmp_path / "pwned"
    forged = RepoUrl(f"--upload-pack=touch {marker}", RepoKind.FILE)
    cache = RepoCache(tmp_path / "cache")
    dest, held = cache.new_checkout_dir("run-1")
    with pytest.raises(GitFetchFailed):
        await cache.checkout(_runner(allow_file=True), forged, None, dest)
    assert not marker.exists()
    await cache.release_checkout(dest, held)


def test_git_env_is_an_allow_list() -> None:
    base = {
        "PATH": "/usr/bin",
        "HOME": "/home/w",
        "ADMIN_TOKEN": "admin-secret",
        "API_TOKEN": "api-secret",
        "REDIS_URL": "redis://:pw@r:6379",
        "OPENAI_API_KEY": "sk-x",
        "HYDRA_DATA_DIR": "/d",
        "GIT_DIR": "/elsewhere",
        "GIT_ASKPASS": "/usr/bin/ask",
        "SSH_AUTH_SOCK": "/tmp/agent",
    }
    env = git_env(base)
    assert not {"ADMIN_TOKEN", "API_TOKEN", "REDIS_URL", "OPENAI_API_KEY"} & env.keys()
    assert not {"HYDRA_DATA_DIR", "GIT_DIR", "GIT_ASKPASS"} & env.keys()
    assert env["PATH"] == "/usr/bin" and env["SSH_AUTH_SOCK"] == "/tmp/agent"
    assert env["GIT_TERMINAL_PROMPT"] == "0" and "BatchMode=yes" in env["GIT_SSH_COMMAND"]
    assert git_env({**base, "GIT_SSH_COMMAND": "ssh -i key"})["GIT_SSH_COMMAND"] == "ssh -i key"


def test_hardening_config() -> None:
    config = hardening_config(allow_file=False, follow_redirects=False)
    pairs = dict(item.split("=", 1) for item in config[1::2])
    assert config[::2] == ["-c"] * len(pairs)
    assert pairs["protocol.allow"] == "never" and pairs["protocol.file.allow"] == "never"
    assert pairs["protocol.https.allow"] == pairs["protocol.ssh.allow"] == "always"
    assert pairs["core.hooksPath"] == os.devnull and pairs["http.followRedirects"] == "false"
    assert pairs["submodule.recurse"] == "false"
    allowed = dict(
        item.split("=", 1)
        for item in hardening_config(allow_file=True, follow_redirects=True)[1::2]
    )
    assert allowed["protocol.file.allow"] == "always"


# the job's directory stays inside the checkout (I4) ---------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_confine_resolves_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "checkout"
    (root / "sub" / "dir").mkdir(parents=True)
    (root / "file.txt").write_text("x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "escape").symlink_to(outside)
    (root / "escape_rel").symlink_to("../outside")
    (root / "inside").symlink_to("sub/dir")
    assert confine(root, None) == root.resolve()
    assert confine(root, "sub/dir") == (root / "sub" / "dir").resolve()
    assert confine(root, "inside") == (root / "sub" / "dir").resolve()
    for escaping in ("escape", "escape_rel", "escape/.", "sub/../escape"):
        with pytest.raises(GitPathRefused, match="outside the checkout"):
            confine(root, escaping)
    with pytest.raises(GitPathRefused, match="not a directory"):
        confine(root, "file.txt")
    with pytest.raises(GitPathRefused, match="not a directory"):
        confine(root, "missing")


# the per-repository lock ---------------------------------------------------------------------


async def test_repo_lock_excludes_and_gives_up_on_cancel_or_deadline(tmp_path: Path) -> None:
    lock = tmp_path / "r.lock"
    cancel = asyncio.Event()
    async with repo_lock(lock, Deadline(10), cancel):
        waiter_cancel = asyncio.Event()
        waiter = asyncio.create_task(_hold(lock, Deadline(10), waiter_cancel))
        await asyncio.sleep(0)  # let it try once; it must be waiting, not holding
        assert not waiter.done()
        waiter_cancel.set()
        with pytest.raises(GitCancelled):
            await asyncio.wait_for(waiter, 5)
        with pytest.raises(GitTimeout, match="locked"):
            await asyncio.wait_for(_hold(lock, Deadline(0.2), asyncio.Event()), 5)
    # Released: the next holder gets it at once.
    await asyncio.wait_for(_hold(lock, Deadline(1), asyncio.Event()), 5)


async def _hold(lock: Path, deadline: Deadline, cancel: asyncio.Event) -> None:
    async with repo_lock(lock, deadline, cancel):
        pass


async def test_repo_lock_serialises_holders(tmp_path: Path) -> None:
    lock = tmp_path / "r.lock"
    inside = 0
    most = 0

    async def critical() -> None:
        nonlocal inside, most
        async with repo_lock(lock, Deadline(10), asyncio.Event()):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    await asyncio.wait_for(asyncio.gather(*(critical() for _ in range(5))), 10)
    assert most == 1


async def test_abandoned_checkouts_are_swept_live_ones_kept(tmp_path: Path) -> None:
    """A worker killed mid-run leaves its checkout behind with a free lock; the next run's
    sweep removes it. A live run holds its lock, so neither this worker nor another sharing
    the cache touches it."""
    cache = RepoCache(tmp_path / "cache")
    live, live_fd = cache.new_checkout_dir("live-run")
    (live / "file").write_text("in use")
    dead, dead_fd = cache.new_checkout_dir("dead-run")
    (dead / "sub").mkdir()
    (dead / "sub" / "file").write_text("left behind")
    (dead / "sub" / "file").chmod(0o400)
    unlock_and_close(dead_fd)  # what the kernel does when the worker dies
    await cache.sweep_abandoned()
    assert live.exists() and not dead.exists()
    assert sorted(p.name for p in cache.checkouts.iterdir()) == [live.name, f"{live.name}.lock"]
    assert lock_now(cache.checkouts / f"{live.name}.lock") is None  # still held
    await cache.release_checkout(live, live_fd)
    assert list(cache.checkouts.iterdir()) == []
