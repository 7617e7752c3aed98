"""The test stack (its own ports, data and logs under .run/test-stack) and settings that
point adapters at its servers, isolated per test by name."""

import shutil
import uuid
from pathlib import Path
from typing import Any

from imagesearch_dev.localstack import Stack, StackSettings
from imagesearch_dev.localstack.settings import StackAuth, StackPorts
from shared.config import MilvusSettings, RedisSettings, StorageSettings
from tests.support.paths import MODEL_DIR, ROOT
from tests.support.ports import free_ports

INFRA = ["redis", "s3", "milvus"]
TRACED = ["INGESTAPI", "SEARCHAPI", "CDNAPI", "INGESTWORKER"]
SPANS_FILE = "spans.jsonl"
# a whole worker killed in a fault test: its tasks come back after this long
VISIBILITY_TIMEOUT_S = 15
# URL ingest tests serve images from this loopback address; all others stay refused
IMAGE_HOST = "127.0.0.2"
# webhook tests receive deliveries on this loopback address; all others stay refused
HOOK_HOST = "127.0.0.3"


def own_stack_settings(run_dir: Path, **overrides: Any) -> StackSettings:
    """Settings of a stack of its own: an emptied run folder and a free port for every server
    it starts."""
    shutil.rmtree(run_dir, ignore_errors=True)
    names = list(StackPorts.model_fields)
    ports = StackPorts(**dict(zip(names, free_ports(len(names)), strict=True)))
    return StackSettings(run_dir=run_dir, ports=ports, **overrides)


def build_test_stack() -> Stack:
    """A stack of its own on free ports, with a fresh run folder; nothing started yet."""
    run_dir = ROOT / ".run" / "test-stack"
    worker_metrics = free_ports(1)[0]
    settings = own_stack_settings(run_dir)
    model = str(MODEL_DIR)
    # every finished span of every service, as JSON lines (tests/e2e/test_traces.py)
    spans = str(run_dir / SPANS_FILE)
    return Stack(
        settings,
        extra_env={
            "INGESTWORKER__EMBEDDING__MODEL": model,
            "SEARCHAPI__EMBEDDING__MODEL": model,
            "INGESTWORKER__REDIS__VISIBILITY_TIMEOUT_S": str(VISIBILITY_TIMEOUT_S),
            # outages in the fault tests outlast this retry budget in seconds, not minutes
            "INGESTWORKER__TASKS__MAX_RETRIES": "1",
            "INGESTWORKER__TASKS__MAX_BACKOFF_S": "2",
            "INGESTWORKER__METRICS__PORT": str(worker_metrics),
            "INGESTAPI__FETCH__ALLOW_NETWORKS": f'["{IMAGE_HOST}/32"]',
            "INGESTWORKER__FETCH__ALLOW_NETWORKS": f'["{IMAGE_HOST}/32"]',
            "INGESTAPI__WEBHOOKS__ALLOW_NETWORKS": f'["{HOOK_HOST}/32"]',
            "INGESTWORKER__WEBHOOKS__ALLOW_NETWORKS": f'["{HOOK_HOST}/32"]',
            # retries, pauses and resumes within seconds (tests/e2e/test_webhooks.py)
            "INGESTWORKER__WEBHOOKS__TIMEOUT_S": "2",
            "INGESTWORKER__WEBHOOKS__FIRST_RETRY_S": "0.5",
            "INGESTWORKER__WEBHOOKS__MAX_BACKOFF_S": "1",
            "INGESTWORKER__WEBHOOKS__PAUSE_AFTER_FAILURES": "5",
            "INGESTWORKER__WEBHOOKS__PAUSED_RECHECK_S": "1",
            "INGESTWORKER__WEBHOOKS__POLL_S": "0.5",
            # every test request comes from one address: the suite is not a client to limit
            "INGESTAPI__RATE_LIMIT__ENABLED": "false",
            "SEARCHAPI__RATE_LIMIT__ENABLED": "false",
            **{f"{svc}__TELEMETRY__FILE": spans for svc in TRACED},
        },
    )


def storage_settings(stack: Stack, bucket: str | None = None) -> StorageSettings:
    s = stack.settings
    return StorageSettings(
        endpoint=f"{s.host}:{s.ports.s3}",
        access_key=s.s3_access_key,  # type: ignore[arg-type]
        secret_key=s.s3_secret_key,  # type: ignore[arg-type]
        bucket=bucket or f"it-{uuid.uuid4().hex[:12]}",
    )


def milvus_settings(stack: Stack, prefix: str | None = None) -> MilvusSettings:
    s = stack.settings
    return MilvusSettings(
        uri=f"http://{s.host}:{s.ports.milvus}",
        collection_prefix=prefix or f"it_{uuid.uuid4().hex[:12]}",
    )


def redis_settings(stack: Stack) -> RedisSettings:
    return RedisSettings(host=stack.settings.host, port=stack.settings.ports.redis)


API_KEY = "it-key-5f0c9b27"
# characters that would be nginx syntax: only the key's hash is written into nginx's config
URL_SIGNING_KEY = 'it-signing-8a61"d4$e3; }'

KEYED_SEARCH_LIMIT = "20/minute"
KEYED_READ_LIMIT = "150/minute"


def build_keyed_stack(base: Stack) -> Stack:
    """The APIs and nginx once more, with API keys and protected reads, sharing ``base``'s
    Redis, S3 server, Milvus and worker; nothing started yet."""
    run_dir = ROOT / ".run" / "test-stack-keys"
    shutil.rmtree(run_dir, ignore_errors=True)
    names = ["nginx", "nginx_refresh", "ingestapi", "searchapi", "cdnapi"]
    ports = {**base.settings.ports.model_dump(), **dict(zip(names, free_ports(5), strict=True))}
    settings = base.settings.model_copy(
        update={
            "run_dir": run_dir,
            "ports": type(base.settings.ports)(**ports),
            "auth": StackAuth(
                api_keys=[API_KEY], protect_reads=True, url_signing_key=URL_SIGNING_KEY
            ),
        }
    )
    extra = {**base.extra_env, "SEARCHAPI__RATE_LIMIT__ENABLED": "true"}
    extra["SEARCHAPI__RATE_LIMIT__SEARCH"] = KEYED_SEARCH_LIMIT
    # ingestapi's reads limited too (tests/e2e/test_security.py hits the limit last)
    extra["INGESTAPI__RATE_LIMIT__ENABLED"] = "true"
    extra["INGESTAPI__RATE_LIMIT__READ"] = KEYED_READ_LIMIT
    return Stack(settings, extra_env=extra)
