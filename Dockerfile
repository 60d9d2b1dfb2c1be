# syntax=docker/dockerfile:1
# Hydra Jobs: one image, two roles.
#   docker build -t hydra-jobs .                          the scheduler (the last stage, default)
#   docker build -t hydra-jobs-worker --target worker .   a worker
# Both run `hydra-jobs` under tini as PID 1, as the non-root user hydra (uid 10001), with /data as
# the data dir (SQLite of a lone scheduler, a worker's git cache). Configuration is environment
# only (see .env.example); nothing secret is baked in. `hydra-jobs up` (embedded mode) runs in the
# scheduler image too: docker run -p 8000:8000 hydra-jobs hydra-jobs up
# Base images are pinned by tag; pin them by digest too where your registry policy asks for it.

# 1. The web UI, built with Node.js from its lock file.
FROM node:20.19.5-bookworm-slim AS ui
WORKDIR /src/ui
COPY ui/package.json ui/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY ui/ ./
RUN npm run build

# 2. A virtual environment with hydra-jobs[all] at the versions of requirements/dev.txt (the lock
#    CI tests), and the wheel built from this checkout with the UI from stage 1 inside it.
FROM python:3.11.13-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
COPY requirements/dev.txt requirements/dev.txt
# The lock without its hashes becomes a constraints file: every package at its locked version.
RUN sed -e '/^ *#/d' -e '/^ *--hash/d' -e 's/ *\\$//' requirements/dev.txt > /tmp/constraints.txt \
    && pip install --constraint /tmp/constraints.txt hatchling editables \
    && python -m venv /opt/hydra
COPY pyproject.toml hatch_build.py README.md ./
COPY src/ src/
COPY --from=ui /src/ui/dist ui/dist
RUN pip wheel --no-deps --no-build-isolation --wheel-dir /wheels . \
    && /opt/hydra/bin/pip install --constraint /tmp/constraints.txt \
        "$(ls /wheels/hydra_jobs-*.whl)[all]" \
    && /opt/hydra/bin/pip uninstall --yes pip setuptools \
    && /opt/hydra/bin/python -c "import hydra_jobs.scheduler.api.app as a; assert a.default_ui_dir()"

# 3. The runtime: slim Python, tini, git (for jobs with a git source), the venv; no compilers,
#    no Node.js, no pip or setuptools in the venv, no build back end.
FROM python:3.11.13-slim-bookworm AS runtime
# hadolint DL3008 (pin apt versions): Debian stable's archive keeps only the latest security
# build of each package, so an exact pin breaks the build as soon as a fix lands; the base image
# tag pins the release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini git openssh-client ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 hydra \
    && useradd --system --uid 10001 --gid hydra --create-home --home-dir /home/hydra \
        --shell /usr/sbin/nologin hydra \
    && install -d -o hydra -g hydra -m 0700 /data
COPY --from=build /opt/hydra /opt/hydra
ENV PATH=/opt/hydra/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HYDRA_DATA_DIR=/data \
    HYDRA_HOST=0.0.0.0 \
    HYDRA_PORT=8000
USER 10001:10001
WORKDIR /home/hydra
# tini is PID 1: it forwards SIGTERM to hydra-jobs (a worker then drains and ends its jobs'
# process trees itself) and reaps every orphan a job leaves behind. Not `tini -g`: a signal to the
# whole group would reach the worker's guard process before the worker had drained.
ENTRYPOINT ["/usr/bin/tini", "--"]

# A worker: needs REDIS_URL, API_TOKEN (a token of WORKER_DOMAIN); never a database.
FROM runtime AS worker
# A worker serves no HTTP: its health is its lease in Redis, which the schedulers watch (GET
# /api/v1/workers; a lapsed lease makes its runs `lost` and retried). A worker that dies ends the
# container, and the restart policy brings it back.
HEALTHCHECK NONE
STOPSIGNAL SIGTERM
CMD ["hydra-jobs", "worker"]

# The scheduler (API + UI on 8000): needs REDIS_URL, ADMIN_TOKEN and a store (MONGO_URL or
# DATABASE_URL; SQLite in /data otherwise, for a single replica).
FROM runtime AS scheduler
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('HYDRA_PORT', '8000'), timeout=2)"]
CMD ["hydra-jobs", "scheduler"]
