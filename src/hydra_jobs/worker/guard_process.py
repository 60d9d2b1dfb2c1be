"""The worker's guard, as a program of its own: `python -S guard_process.py WORKER_ID BOARD_FD`.

Started by `guard.py`; imports nothing of Hydra Jobs, so that it starts in milliseconds and keeps
working whatever happens to the worker. It reads commands on stdin, one a line:
`+PGID`/`-PGID` (a job's process group), `cPATH` (a cgroup to kill), `dSECONDS` (the deadline by
which the worker must speak again), `q` (quit). The board (shared memory, `BOARD_FD`) lists more
job groups. When stdin closes (the worker died) or the deadline passes (it froze), it SIGKILLs
every group, every cgroup, and every process whose environment carries the worker's marker.
"""

from __future__ import annotations

import mmap
import os
import select
import signal
import struct
import sys
import time

TITLE = b"hydra-guard"  # what `ps -o comm` and `top` show (15 bytes at most)


def kill_cgroups(cgroups: set[str], remove: bool) -> None:
    for path in cgroups:
        try:
            with open(path + "/cgroup.kill", "w") as fh:
                fh.write("1")
        except OSError:
            pass
    for _ in range(100 if remove else 0):  # emptied asynchronously: rmdir fails until then
        left = False
        for path in cgroups:
            try:
                for name in os.listdir(path):
                    if name.startswith("run-"):
                        os.rmdir(path + "/" + name)
                os.rmdir(path)
            except FileNotFoundError:
                pass
            except OSError:
                left = True
        if not left:
            return
        time.sleep(0.01)


def kill_all(groups: set[int], marker: bytes) -> None:
    for pgid in list(groups):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
    if not os.path.isdir("/proc"):
        return
    me = os.getpid()
    for _ in range(20):
        found = False
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) == me:
                continue
            try:
                with open("/proc/" + name + "/environ", "rb") as fh:
                    env = b"\0" + fh.read()
            except OSError:
                continue
            if marker in env:
                try:
                    os.kill(int(name), signal.SIGKILL)
                    found = True
                except OSError:
                    pass
        if not found:
            return
        time.sleep(0.01)


def on_board(board: mmap.mmap) -> set[int]:
    return {pgid for (pgid,) in struct.iter_unpack("i", board) if pgid > 0}


def serve(worker_id: str, board_fd: int) -> None:
    marker = b"\0HYDRA_WORKER_ID=" + worker_id.encode() + b"\0"
    board = mmap.mmap(board_fd, 0)
    groups: set[int] = set()
    cgroups: set[str] = set()
    deadline: float | None = None
    pending = b""
    while True:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([0], [], [], timeout)
        if not ready:
            kill_cgroups(cgroups, False)
            kill_all(groups | on_board(board), marker)
            groups.clear()
            deadline = None
            continue
        chunk = os.read(0, 65536)
        if not chunk:
            kill_cgroups(cgroups, True)
            kill_all(groups | on_board(board), marker)
            return
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        for line in lines:
            op, arg = line[:1], line[1:]
            if op == b"+":
                groups.add(int(arg))
            elif op == b"-":
                groups.discard(int(arg))
            elif op == b"c":
                cgroups.add(arg.decode())
            elif op == b"d":
                deadline = time.monotonic() + float(arg)
            elif op == b"q":
                return


def main() -> None:
    worker_id, board_fd = sys.argv[1], int(sys.argv[2])
    try:  # before the fork, so the guard has its name by the time its pid is reported
        with open("/proc/self/comm", "wb") as fh:
            fh.write(TITLE)
    except OSError:  # not Linux: the command line says what it is
        pass
    child = os.fork()
    if child:  # detach: the guard is nobody's child, so it never shows up as a job of ours
        os.write(1, b"%d\n" % child)
        os._exit(0)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    serve(worker_id, board_fd)


if __name__ == "__main__":
    main()
