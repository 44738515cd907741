# syntax=docker/dockerfile:1
#
# One image for every Switchboard process: `ingest` (the default), `worker`, `migrate`,
# `topics apply`. Configuration comes only from environment variables (see .env.example).
#
#   docker build -t switchboard:latest .
#   docker run --env-file .env -p 8000:8000 switchboard:latest ingest

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: resolve the locked dependencies into a virtual environment -----------------------
FROM ${PYTHON_IMAGE} AS build

RUN pip install --no-cache-dir uv==0.13.9

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/opt/switchboard/.venv

WORKDIR /opt/switchboard

# Dependencies first, in their own layer: it is rebuilt only when the lock file changes.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

# Then the project itself, installed as a wheel so the runtime image needs no source tree.
COPY README.md ./
COPY switchboard ./switchboard
COPY schemas ./schemas
COPY ingest ./ingest
COPY streams ./streams
COPY datakeys ./datakeys
COPY lag ./lag
COPY sinks ./sinks
COPY migrations ./migrations
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

# --- runtime: the virtual environment and an unprivileged user, nothing else ----------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PATH=/opt/switchboard/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SWITCHBOARD_ENV=production

RUN groupadd --system --gid 10001 switchboard \
    && useradd --system --uid 10001 --gid switchboard --home-dir /var/lib/switchboard \
        --create-home --shell /usr/sbin/nologin switchboard

COPY --from=build /opt/switchboard/.venv /opt/switchboard/.venv

# The worker keeps its local state (Faust's data directory) under the working directory.
WORKDIR /var/lib/switchboard
USER switchboard:switchboard

EXPOSE 8000

# Meaningful for `ingest`; docker-compose.yml disables it for the other commands.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('SWITCHBOARD_INGEST_PORT', '8000'), timeout=4)"]

ENTRYPOINT ["switchboard"]
CMD ["ingest"]
