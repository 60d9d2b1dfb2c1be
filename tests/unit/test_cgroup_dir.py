"""Where a worker's cgroup v2 directory is, from /proc/PID/cgroup and /proc/PID/mountinfo (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hydra_jobs.worker.cgroups import cgroup_dir

HYBRID_CGROUP = "9:name=systemd:/\n4:memory:/x\n1:cpu:/\n0::/\n"
HYBRID_MOUNTS = (
    "30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
)
PURE_V2_MOUNTS = (
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"
)


@pytest.mark.parametrize(
    ("cgroup", "mounts", "expected"),
    [
        (HYBRID_CGROUP, HYBRID_MOUNTS, "/sys/fs/cgroup/unified"),
        (
            "0::/system.slice/hydra.service\n",
            PURE_V2_MOUNTS,
            "/sys/fs/cgroup/system.slice/hydra.service",
        ),
        # A container whose /sys/fs/cgroup is bound from deeper in the host's hierarchy.
        (
            "0::/docker/abc/app\n",
            "50 40 0:30 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
            "/sys/fs/cgroup/app",
        ),
        (
            "0::/docker/abc\n",
            "50 40 0:30 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
            "/sys/fs/cgroup",
        ),
        # mountinfo escapes a space in a path as \\040.
        ("0::/a b\n", "35 24 0:30 / /mnt/cg\\040v2 rw - cgroup2 cgroup2 rw\n", "/mnt/cg v2/a b"),
    ],
)
def test_the_cgroup_directory_is_found(cgroup: str, mounts: str, expected: str) -> None:
    assert cgroup_dir(cgroup, mounts) == Path(expected)


@pytest.mark.parametrize(
    ("cgroup", "mounts"),
    [
        ("4:memory:/x\n1:cpu:/\n", HYBRID_MOUNTS),  # cgroup v1 only: no 0:: line
        ("0::/\n", "31 30 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"),
        # The bind-mounted part is another branch: /docker/abcdef is not under /docker/abc.
        ("0::/docker/abcdef\n", "50 40 0:30 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"),
    ],
)
def test_no_cgroup_v2_directory_means_none(cgroup: str, mounts: str) -> None:
    assert cgroup_dir(cgroup, mounts) is None
