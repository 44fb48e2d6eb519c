# liftrun: the sync loop (default), `liftrun sync --once` (cron) or `liftrun serve` (the
# athlete's page and the ICS feed).
#
#   docker build -t liftrun .
#   docker run --rm -v liftrun-state:/var/lib/liftrun liftrun sync --once
#
# BASE_IMAGE is any Debian-like image with `python3` (3.11+) and its venv module: the official
# python:3.11-slim by default, or a base built from Debian packages by scripts/container_base.sh
# where no registry can be reached. Every stage uses it, so the venv copied from the builder runs
# on the same interpreter.
#
# Build-time network options (never stored in the shipped image):
#   --build-arg PIP_INDEX_URL=... / PIP_EXTRA_INDEX_URL=...   a package mirror
#   --secret id=pip_cert,src=/path/ca-bundle.pem               a CA bundle for a TLS-inspecting
#                                                              proxy (BuildKit / podman secret)
# docs/container.md has the whole story (volumes, secrets, health check, compose, Kubernetes).

ARG BASE_IMAGE=python:3.11-slim

# --------------------------------------------------------------------------------------------
# pip: where every stage that runs pip starts (builder, radicale-builder; never the shipped
# runtime). Each RUN that installs sources /usr/local/lib/pip-env.sh first, the one statement of
# the build-time network options: an empty PIP_INDEX_URL or PIP_EXTRA_INDEX_URL is unset (pip's
# default), and the pip_cert secret, when mounted and not empty, becomes PIP_CERT. A stage that
# sources it declares the two ARGs itself, since an ARG does not outlive its stage.
FROM ${BASE_IMAGE} AS pip
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN mkdir -p /usr/local/lib \
    && printf '%s\n' \
        'set -eu' \
        '[ -n "$PIP_INDEX_URL" ] || unset PIP_INDEX_URL' \
        '[ -n "$PIP_EXTRA_INDEX_URL" ] || unset PIP_EXTRA_INDEX_URL' \
        'if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi' \
        > /usr/local/lib/pip-env.sh

# --------------------------------------------------------------------------------------------
# builder: a venv at /opt/liftrun with the pinned runtime dependencies (constraints.txt) and
# liftrun itself; no test extra, no compilers needed (every pinned dependency has a wheel).
FROM pip AS builder

ARG PIP_INDEX_URL=
ARG PIP_EXTRA_INDEX_URL=
ENV PYTHONDONTWRITEBYTECODE=1

WORKDIR /src

# Dependencies first (a layer that survives code changes): the runtime dependencies named in
# pyproject.toml, at the versions pinned in constraints.txt.
COPY pyproject.toml constraints.txt ./
RUN --mount=type=secret,id=pip_cert \
    . /usr/local/lib/pip-env.sh; \
    python3 -m venv /opt/liftrun; \
    /opt/liftrun/bin/python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > /tmp/requirements.txt; \
    /opt/liftrun/bin/pip install -c constraints.txt -r /tmp/requirements.txt

# Then liftrun itself (no dependency resolution: they are all in place already), checked, and
# trimmed of what is not needed at run time: pip itself, and the ~110 MB of Google discovery
# documents other than Calendar v3 (the only API liftrun builds, with static_discovery=True).
COPY README.md ./
COPY planner/ planner/
COPY adapters/ adapters/
COPY sync/ sync/
COPY cli/ cli/
COPY config/ config/
COPY web/ web/
RUN --mount=type=secret,id=pip_cert \
    . /usr/local/lib/pip-env.sh; \
    /opt/liftrun/bin/pip install -c constraints.txt --no-deps . ; \
    /opt/liftrun/bin/pip check; \
    /opt/liftrun/bin/liftrun --help > /dev/null; \
    docs="$(/opt/liftrun/bin/python -c 'import googleapiclient, os; print(os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents"))')"; \
    find "$docs" -name '*.json' ! -name 'calendar.v3.json' -delete; \
    /opt/liftrun/bin/python -m pip uninstall -y -q pip setuptools wheel 2>/dev/null || true; \
    /opt/liftrun/bin/python -c 'import cli.main, sync.loop, web.app, web.pages; from googleapiclient.discovery_cache import get_static_doc; assert get_static_doc("calendar", "v3")'

# --------------------------------------------------------------------------------------------
# radicale: a demo CalDAV server for compose.yaml (`--target radicale`); never part of the
# liftrun image. Same pinned version the test suite runs against.
FROM pip AS radicale-builder
ARG PIP_INDEX_URL=
ARG PIP_EXTRA_INDEX_URL=
COPY constraints.txt /tmp/constraints.txt
RUN --mount=type=secret,id=pip_cert \
    . /usr/local/lib/pip-env.sh; \
    python3 -m venv /opt/radicale; \
    /opt/radicale/bin/pip install -c /tmp/constraints.txt radicale

FROM ${BASE_IMAGE} AS radicale
RUN groupadd --gid 10002 radicale \
    && useradd --no-log-init --uid 10002 --gid radicale --home-dir /var/lib/radicale \
        --no-create-home --shell /usr/sbin/nologin radicale \
    && mkdir -p /var/lib/radicale /etc/radicale \
    && chown radicale:radicale /var/lib/radicale
COPY --from=radicale-builder /opt/radicale /opt/radicale
ENV PATH=/opt/radicale/bin:$PATH PYTHONUNBUFFERED=1
USER 10002:10002
VOLUME ["/var/lib/radicale"]
EXPOSE 5232
ENTRYPOINT ["radicale"]
CMD ["--config", "/etc/radicale/config"]

# --------------------------------------------------------------------------------------------
# runtime (the default target): the venv, a non-root user, state on a volume.
FROM ${BASE_IMAGE} AS runtime

LABEL org.opencontainers.image.title="liftrun" \
      org.opencontainers.image.description="Running + strength plan, synced into your calendars" \
      org.opencontainers.image.licenses="MIT"

RUN groupadd --gid 10001 liftrun \
    && useradd --no-log-init --uid 10001 --gid liftrun --home-dir /var/lib/liftrun \
        --no-create-home --shell /usr/sbin/nologin liftrun \
    && mkdir -p /var/lib/liftrun /etc/liftrun \
    && chown liftrun:liftrun /var/lib/liftrun \
    && chmod 0750 /var/lib/liftrun

COPY --from=builder /opt/liftrun /opt/liftrun
# A sample config so the image runs as is; mount your own over it (read-only is fine).
COPY deploy/container/liftrun.toml /etc/liftrun/liftrun.toml

# Config: the mounted file, then /run/secrets (one file per key, e.g. liftrun_timezone, and
# `*_file = "/run/secrets/..."` keys), then LIFTRUN_<SECTION>__<KEY> variables (highest).
# The state (SQLite store, lock, caches, the feed's and the page's secrets) and the feed
# file live on the volume.
ENV PATH=/opt/liftrun/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LIFTRUN_CONFIG=/etc/liftrun/liftrun.toml \
    LIFTRUN_SECRETS_DIR=/run/secrets \
    LIFTRUN_STATE__PATH=/var/lib/liftrun \
    LIFTRUN_FEED__LISTEN=0.0.0.0:8080

USER 10001:10001
WORKDIR /var/lib/liftrun
VOLUME ["/var/lib/liftrun"]
EXPOSE 8080

# Unhealthy when no cycle finished within three sync intervals or the last one failed. Meant
# for the loop (`sync`); `serve` has /healthz (compose.yaml overrides this for it).
HEALTHCHECK --interval=5m --timeout=30s --start-period=5m --retries=1 \
    CMD ["liftrun", "status", "--check"]

ENTRYPOINT ["liftrun"]
CMD ["sync"]
