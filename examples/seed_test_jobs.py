"""Create a set of demo jobs that show what Hydra Jobs does, and trigger the unscheduled ones once.

    .venv/bin/python examples/seed_test_jobs.py [URL]

URL defaults to HYDRA_URL, else http://127.0.0.1:8000. Jobs: a greeting with a parameter, a bash
script (`#!/bin/bash`: shell jobs run under /bin/sh otherwise), a Python job, a failing job with
retries, a slow job to cancel, a log flood (long enough to page through), coloured output, an
every-minute cron and a 30 s interval (those two run on their schedule).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import httpx
from rich.progress import track

from hydra_jobs.client import ApiError, Client
from hydra_jobs.config import stored_admin_token

SHELL = "shell"
JOBS: list[dict[str, Any]] = [
    {
        "name": "demo-hello",
        "executor": {"type": SHELL, "script": 'echo "hello, $HYDRA_PARAM_WHO"'},
        "params": {"who": {"default": "world"}},
    },
    {
        "name": "demo-bash",
        "executor": {
            "type": SHELL,
            "script": "#!/bin/bash\nset -euo pipefail\n"
            'for i in {1..3}; do echo "bash $BASH_VERSION says $i"; done',
        },
    },
    {
        "name": "demo-python",
        "executor": {"type": "python", "script": "import platform\nprint(platform.platform())"},
    },
    {
        "name": "demo-flaky",
        "executor": {"type": SHELL, "script": "echo trying; exit 1"},
        "retries": {"max_attempts": 3, "backoff_seconds": 2},
    },
    {
        "name": "demo-slow",
        "executor": {
            "type": SHELL,
            "script": "for i in $(seq 1 120); do echo tick $i; sleep 1; done",
        },
        "timeout_seconds": 300,
    },
    {
        "name": "demo-colours",
        "executor": {
            "type": SHELL,
            "script": r"printf '\033[32mgreen\033[0m \033[1;31mbold red\033[0m"
            r"\n'",
        },
    },
    {"name": "demo-flood", "executor": {"type": SHELL, "script": "seq 1 200000"}},
    {
        "name": "demo-every-minute",
        "executor": {"type": SHELL, "script": "date -u"},
        "schedule": {"cron": "* * * * *"},
        "concurrency": {"overlap": "skip"},
    },
    {
        "name": "demo-interval",
        "executor": {"type": SHELL, "script": "uptime"},
        "schedule": {"interval_seconds": 30},
    },
]


def main() -> int:
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("HYDRA_URL", "http://127.0.0.1:8000")
    data_dir = os.environ.get("HYDRA_DATA_DIR")
    token = os.environ.get("HYDRA_TOKEN") or stored_admin_token(
        Path(data_dir) if data_dir else None
    )
    if not token:
        print("no token: set HYDRA_TOKEN, or start Hydra Jobs with ./scripts/dev-up.sh first")
        return 1
    with Client(url, token) as client:
        for spec in track(JOBS, description="seeding jobs"):
            try:
                existing = client.find_job(spec["name"])
                job = (
                    client.replace_job(existing["id"], spec)
                    if existing
                    else client.create_job(spec)
                )
                if "schedule" not in spec:
                    client.trigger(job["id"])
            except ApiError as exc:
                print(f"{spec['name']}: {exc.message}", file=sys.stderr)
                return 1
            except httpx.TransportError as exc:
                print(f"cannot reach Hydra Jobs at {url}: {exc}", file=sys.stderr)
                print("start it with ./scripts/dev-up.sh, or pass its URL", file=sys.stderr)
                return 1
    print(f"seeded {len(JOBS)} jobs; open {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
