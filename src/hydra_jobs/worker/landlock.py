"""The Linux Landlock system calls, through ctypes (no compiled helper, no root needed).

Landlock (Linux 5.13+) lets an unprivileged thread drop file-system access for itself and every
process it starts afterwards: a ruleset names the rights it governs, rules grant some of them on
file hierarchies, and `restrict_self` makes the calling thread's access the intersection of what
it had and what the rules grant. It cannot be undone, not even by root, and exec keeps it.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import stat

__all__ = [
    "FILE_RIGHTS",
    "LandlockError",
    "PathRule",
    "Ruleset",
    "abi_version",
    "fs_rights",
    "restrict_thread",
]

_SYS_CREATE_RULESET = 444  # the same number on every architecture (new-style syscall table)
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# Rights on files and directories, by the ABI version that introduced them.
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER = 1 << 13  # ABI 2: link or rename across directories
TRUNCATE = 1 << 14  # ABI 3
IOCTL_DEV = 1 << 15  # ABI 5
_ABI1_RIGHTS = (1 << 13) - 1
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # what a file rule may grant
SCOPE_SIGNAL = 1 << 1  # ABI 6: no signals to processes outside the domain


class LandlockError(OSError):
    """Landlock could not be set up; the job must not start without it."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # __attribute__((packed)) in <linux/landlock.h>: 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@functools.cache
def _libc() -> ctypes.PyDLL:
    """The C library, called with the GIL held: these calls return at once. Releasing it around
    each call (ctypes.CDLL) hands it to a busy thread and waits to get it back; for a confined
    spawn's ~40 calls that cost a busy worker ~0.7 ms of CPU per run (`bench/throughput.py`,
    4.8 against 4.1 ms)."""
    lib = ctypes.PyDLL(None, use_errno=True)
    lib.syscall.restype = ctypes.c_long
    return lib


def _syscall(number: int, *args: object) -> int:
    result = int(_libc().syscall(ctypes.c_long(number), *args))
    if result < 0:
        errno = ctypes.get_errno()
        raise LandlockError(errno, os.strerror(errno))
    return result


@functools.cache
def abi_version() -> int:
    """The kernel's Landlock ABI version; 0 where Landlock is missing or disabled."""
    if platform.system() != "Linux":
        return 0
    try:
        return _syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    except (LandlockError, OSError, AttributeError):
        return 0


def fs_rights(abi: int) -> int:
    """Every file-system right the kernel of `abi` knows: the ruleset governs them all."""
    rights = _ABI1_RIGHTS
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


class PathRule:
    """A grant of `rights` on one path, held open (O_PATH) so that it can be added to many
    rulesets without looking the path up again. Symbolic links are never granted: what they
    point to is governed by the rules of its own location."""

    def __init__(self, fd: int, rights: int) -> None:
        self.fd = fd
        self.attr = _PathBeneathAttr(rights, fd)

    @classmethod
    def open(cls, path: str, rights: int) -> PathRule | None:
        try:
            fd = os.open(path, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:  # gone meanwhile, or closed to us: not granted (the safe side)
            return None
        mode = os.fstat(fd).st_mode
        if stat.S_ISLNK(mode):
            os.close(fd)
            return None
        return cls(fd, rights if stat.S_ISDIR(mode) else rights & FILE_RIGHTS)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Ruleset:
    """A ruleset that governs all file-system rights (and signals, from ABI 6) and grants them
    in full on the paths added. Holds a descriptor: close it once the thread is restricted."""

    def __init__(self, abi: int) -> None:
        self.rights = fs_rights(abi)
        attr = _RulesetAttr(self.rights, 0, SCOPE_SIGNAL if abi >= 6 else 0)
        # The struct grew with the ABI (net rights in 4, scopes in 6); older kernels want less.
        size = 24 if abi >= 6 else 16 if abi >= 4 else 8
        self.fd = _syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)

    def allow(self, path: str) -> bool:
        """Grant everything beneath `path` (a directory) or on it (a file); False when there is
        nothing to grant (gone meanwhile, or a symbolic link)."""
        rule = PathRule.open(path, self.rights)
        if rule is None:
            return False
        try:
            self.add(rule)
        finally:
            rule.close()
        return True

    def add(self, rule: PathRule) -> None:
        _syscall(_SYS_ADD_RULE, self.fd, _RULE_PATH_BENEATH, ctypes.byref(rule.attr), 0)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def restrict_thread(ruleset: Ruleset) -> None:
    """Confine the calling thread (and what it starts from now on) to `ruleset`. Sets
    no_new_privs first, as Landlock requires of an unprivileged caller: no setuid program run
    by a confined job gains privileges (sudo in a job no longer works)."""
    if _libc().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise LandlockError(errno, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(errno)}")
    _syscall(_SYS_RESTRICT_SELF, ruleset.fd, 0)
