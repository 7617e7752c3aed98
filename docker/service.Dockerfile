# syntax=docker/dockerfile:1.7
# One image per Python service: docker build -f docker/service.Dockerfile --build-arg PACKAGE=searchapi .
ARG PYTHON_VERSION=3.12

FROM ghcr.io/astral-sh/uv:0.9 AS uv

FROM python:${PYTHON_VERSION}-slim AS build
ARG PACKAGE
COPY --from=uv /uv /bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
# dependencies first (cached until uv.lock changes), then the workspace's own code
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    --mount=type=bind,source=shared/pyproject.toml,target=shared/pyproject.toml \
    --mount=type=bind,source=ingestapi/pyproject.toml,target=ingestapi/pyproject.toml \
    --mount=type=bind,source=ingestworker/pyproject.toml,target=ingestworker/pyproject.toml \
    --mount=type=bind,source=searchapi/pyproject.toml,target=searchapi/pyproject.toml \
    --mount=type=bind,source=cdnapi/pyproject.toml,target=cdnapi/pyproject.toml \
    --mount=type=bind,source=shared/devtools/pyproject.toml,target=shared/devtools/pyproject.toml \
    --mount=type=bind,source=ingestapi/client/pyproject.toml,target=ingestapi/client/pyproject.toml \
    uv sync --frozen --no-dev --no-install-workspace --package "${PACKAGE}"
COPY . /src
RUN --mount=type=cache,target=/root/.cache/uv \
    cd /src && UV_PROJECT_ENVIRONMENT=/app/.venv \
    uv sync --frozen --no-dev --no-editable --package "${PACKAGE}"

FROM python:${PYTHON_VERSION}-slim AS runtime
# the service user by number: Kubernetes' runAsNonRoot can only verify a numeric USER
ARG APP_UID=10001
# the cache folder (the hub's model download, the runtimes' exports, the dtype decision) is
# where the `models` volume mounts: created and owned here, so a fresh named volume starts as
# a copy of it, owned by the service user, not as an empty root-owned folder
RUN groupadd --gid "${APP_UID}" app \
 && useradd --uid "${APP_UID}" --gid "${APP_UID}" --create-home app \
 && mkdir -p /home/app/.cache/huggingface /home/app/.cache/imagesearch \
 && chown -R "${APP_UID}:${APP_UID}" /home/app/.cache
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
COPY conf /app/conf
ENV PATH=/app/.venv/bin:$PATH \
    IMAGESEARCH_CONF_DIR=/app/conf \
    PYTHONUNBUFFERED=1 \
    HOME=/home/app \
    HF_HOME=/home/app/.cache/huggingface
USER ${APP_UID}:${APP_UID}
