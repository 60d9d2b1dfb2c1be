"""Submit a job spec, run it, and stream its output: the SDK in twenty lines.

    .venv/bin/python examples/submit_job.py examples/jobs/hello.json --param who=you

Reads --url or HYDRA_URL (default http://127.0.0.1:8000) and HYDRA_TOKEN (default: the admin
token that `hydra-jobs up` stored in its data dir).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import httpx

from hydra_jobs.client import ApiError, Client
from hydra_jobs.config import stored_admin_token


def token() -> str:
    if os.environ.get("HYDRA_TOKEN"):
        return os.environ["HYDRA_TOKEN"]
    data_dir = os.environ.get("HYDRA_DATA_DIR")
    found = stored_admin_token(Path(data_dir) if data_dir else None)
    if not found:
        raise SystemExit("no token: set HYDRA_TOKEN, or start Hydra Jobs with ./scripts/dev-up.sh")
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("spec", type=Path)
    parser.add_argument("--param", action="append", default=[], help="NAME=VALUE")
    parser.add_argument("--url", default=os.environ.get("HYDRA_URL", "http://127.0.0.1:8000"))
    args = parser.parse_args()
    spec = json.loads(args.spec.read_text())
    params = dict(p.split("=", 1) for p in args.param)
    with Client(args.url, token()) as client:
        try:
            existing = client.find_job(spec["name"])
            job = client.replace_job(existing["id"], spec) if existing else client.create_job(spec)
            run = client.trigger(job["id"], params)
        except ApiError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 1
        except httpx.TransportError as exc:
            print(
                f"error: cannot reach Hydra Jobs at {args.url}: {exc}\n"
                "start it with ./scripts/dev-up.sh, or pass --url / set HYDRA_URL",
                file=sys.stderr,
            )
            return 1
        print(f"job {job['name']} ({job['id']}), run {run['id']}", file=sys.stderr)
        for event, _id, data in client.follow_logs(run["id"]):
            if event == "log":
                sys.stdout.write(data["data"])
            elif event == "end":
                print(f"-> {data['status']} (exit {data['exit_code']})", file=sys.stderr)
                return 0 if data["status"] == "succeeded" else 1
    return 1


if __name__ == "__main__":
    sys.exit(main())
