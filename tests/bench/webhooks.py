"""`make bench-webhooks`: what waiting webhook deliveries cost, and what the deliverer holds.

On a stack of its own (Redis, the S3 server, the deliverer process as `make up` runs it):
10,000 events are published for one hook (as the index stages publish them, 32 at a time),
whose receiver is dead (connection refused) and whose retries are an hour apart, so all
10,000 stay pending. Measured: the publishing cost per event, Redis's memory per pending
delivery, and the deliverer's resident memory idle and at its peak while it makes the first
attempt of every one. Then a slow receiver (each answer after 1 s) takes 200 deliveries: at
most webhooks.concurrency are in flight, so its rate is about concurrency per second, and the
deliverer's memory does not grow with the backlog."""

import http.server
import os
import platform
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import redis

from imagesearch_dev.localstack import Stack
from shared.storage import MinioObjectStore
from shared.webhooks import events
from shared.webhooks.deliveries import DUE, DeliveryQueue
from shared.webhooks.hook_store import HookSource, WebhookStore
from shared.webhooks.outbox import WebhookOutbox
from shared.webhooks.webhook import Webhook
from tests.bench.procs import peak_rss_bytes, rss_of_tree
from tests.bench.report import save_results
from tests.support.paths import ROOT
from tests.support.polling import eventually
from tests.support.ports import free_ports
from tests.support.stack import HOOK_HOST, own_stack_settings, redis_settings, storage_settings

PENDING = 10_000
SLOW = 200
SLOW_ANSWER_S = 1.0
CONCURRENCY = 8
BATCH = 32


def slow_receiver() -> tuple[http.server.ThreadingHTTPServer, str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            time.sleep(SLOW_ANSWER_S)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((HOOK_HOST, 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{HOOK_HOST}:{server.server_address[1]}/in"


def hook(url: str) -> Webhook:
    now = datetime.now(UTC)
    return Webhook(
        id=uuid.uuid4().hex, url=url, secret="whsec_" + "b" * 32, events=["image.indexed"],
        created_at=now, updated_at=now,
    )  # fmt: skip


def publish(outbox: WebhookOutbox, count: int, offset: int) -> float:
    """Seconds spent publishing ``count`` events, a batch's worth at a time."""
    began = time.perf_counter()
    for start in range(0, count, BATCH):
        n = min(BATCH, count - start)
        outbox.publish(
            [events.image_indexed(f"{offset + start + k:064x}", "a.jpg", 1, []) for k in range(n)]
        )
    return time.perf_counter() - began


def main() -> None:
    run_dir = ROOT / ".run" / "bench-webhooks"
    dead_port = free_ports(1)[0]  # nothing listens there: every attempt is refused at once
    env = {
        "INGESTWORKER__WEBHOOKS__ALLOW_NETWORKS": f'["{HOOK_HOST}/32"]',
        "INGESTWORKER__WEBHOOKS__FIRST_RETRY_S": "3600",
        "INGESTWORKER__WEBHOOKS__PAUSE_AFTER_FAILURES": "1000000",
        "INGESTWORKER__WEBHOOKS__MAX_PENDING": str(2 * PENDING),
        "INGESTWORKER__WEBHOOKS__CONCURRENCY": str(CONCURRENCY),
    }
    stack = Stack(own_stack_settings(run_dir), extra_env=env)
    server = None
    try:
        stack.up(["redis", "s3"])
        store = MinioObjectStore.from_settings(storage_settings(stack, "images"))
        store.ensure_bucket()
        hooks = WebhookStore(store)
        dead = hook(f"http://{HOOK_HOST}:{dead_port}/in")
        hooks.put(dead)
        hooks.mark_changed()
        stack.up(["deliverer"])
        pid = stack.table.running_pid("deliverer")
        assert pid is not None
        client: redis.Redis[bytes] = redis.Redis.from_url(redis_settings(stack).url)
        queue = DeliveryQueue(client, log_size=100, log_keep_s=3600)
        outbox = WebhookOutbox(HookSource(hooks, 0), hooks, queue, max_pending=2 * PENDING)
        idle_rss = rss_of_tree(pid)
        memory_before = int(client.info("memory")["used_memory"])
        publish_s = publish(outbox, PENDING, 0)
        memory_after = int(client.info("memory")["used_memory"])
        began = time.monotonic()
        # every one attempted once: each waits an hour for its next attempt
        eventually(
            lambda: client.zcount(DUE, time.time() + 1800, "+inf") >= PENDING, 600,
            "the first attempt of every delivery", interval_s=1.0,
        )  # fmt: skip
        attempts_s = time.monotonic() - began
        dead_peak = peak_rss_bytes(pid)
        pending = queue.pending([dead.id])[dead.id]

        server, url = slow_receiver()
        slow = hook(url)
        hooks.put(slow)
        hooks.mark_changed()
        publish(outbox, SLOW, PENDING)
        began = time.monotonic()
        eventually(
            lambda: queue.pending([slow.id])[slow.id] == 0, 600, "the slow receiver's deliveries"
        )
        slow_s = time.monotonic() - began
        report: dict[str, Any] = {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "date": time.strftime("%Y-%m-%d"),
            "concurrency": CONCURRENCY,
            "pending": pending,
            "publish_us_per_event": round(publish_s / PENDING * 1e6, 1),
            "redis_bytes_per_pending": round((memory_after - memory_before) / PENDING),
            "redis_mb_for_pending": round((memory_after - memory_before) / 2**20, 1),
            "first_attempts_per_s_dead_receiver": round(PENDING / attempts_s, 1),
            "deliverer_rss_idle_mb": round(idle_rss / 2**20, 1),
            "deliverer_rss_peak_mb_after_10000": round(dead_peak / 2**20, 1),
            "slow_receiver_deliveries": SLOW,
            "slow_receiver_answer_s": SLOW_ANSWER_S,
            "slow_receiver_deliveries_per_s": round(SLOW / slow_s, 2),
            "deliverer_rss_peak_mb_end": round(peak_rss_bytes(pid) / 2**20, 1),
        }
    finally:
        if server is not None:
            server.shutdown()
        stack.down()
    save_results("webhooks", report, markdown(report))


def markdown(r: dict[str, Any]) -> str:
    return (
        "# Webhooks: what waiting deliveries cost\n\n"
        f"{r['machine']}, {r['date']}. One hook with a dead receiver, {r['pending']:,} "
        "deliveries pending (retries an hour apart); the deliverer as `make up` runs it, "
        f"{r['concurrency']} in flight at most (tests/bench/webhooks.py).\n\n"
        "| measure | value |\n|---|---|\n"
        f"| publishing an event (index stage, {BATCH} at a time) | "
        f"{r['publish_us_per_event']} µs |\n"
        f"| Redis memory per pending delivery | {r['redis_bytes_per_pending']} bytes "
        f"({r['redis_mb_for_pending']} MB for {r['pending']:,}) |\n"
        f"| first attempts, dead receiver | {r['first_attempts_per_s_dead_receiver']} /s |\n"
        f"| deliverer RSS, idle | {r['deliverer_rss_idle_mb']} MB |\n"
        f"| deliverer RSS, peak after {r['pending']:,} attempts | "
        f"{r['deliverer_rss_peak_mb_after_10000']} MB |\n"
        f"| slow receiver ({r['slow_receiver_answer_s']} s an answer), "
        f"{r['slow_receiver_deliveries']} deliveries | {r['slow_receiver_deliveries_per_s']} /s |\n"
        f"| deliverer RSS, peak at the end | {r['deliverer_rss_peak_mb_end']} MB |\n"
    )


if __name__ == "__main__":
    main()
