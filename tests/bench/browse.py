"""`make bench-browse`: the library timeline, /stats and deletes at 100k images, through nginx.

100,000 rows go straight into the live collection (random vectors; upload dates over two
years in bursts of one request's second, two thirds with an EXIF date taken over twenty years,
tags of which each image has two of twenty, one in twenty filed as a copy of another). Then,
through nginx and ingestapi (the timeline folds copies, as by default):
- the first page, pages deep in the timeline (following cursors), and filtered pages;
- /stats, computed and then from its cache;
- deletes (one, then 100 at once), with nginx's image cache cleared of each (measured apart:
  the same deletes with no cache to clear).
Writes tests/bench/results/browse.{json,md}."""

import os
import platform
import statistics
import sys
import time
from typing import Any

import httpx
import numpy as np

from imagesearch_dev.localstack import Stack
from shared.config import MilvusSettings
from shared.vectors import ImageRecord, MilvusVectorIndex, milvus_index
from tests.bench.report import save_results
from tests.support.paths import MODEL_DIR, ROOT
from tests.support.stack import own_stack_settings

IMAGES = 100_000
DIM = 64  # the tiny model's; browse reads no vector
TAGS = [f"tag{i}" for i in range(20)]
NOW = int(time.time())
YEAR = 365 * 86_400
PAGES = 60
TARGET_P50_MS = 50.0


def records(rng: np.random.Generator) -> list[ImageRecord]:
    out: list[ImageRecord] = []
    n = 0
    while n < IMAGES:
        burst = int(rng.integers(1, 400))  # one upload request's files share a second
        created = NOW - int(rng.integers(0, 2 * YEAR))
        for _ in range(min(burst, IMAGES - n)):
            dated = rng.random() < 2 / 3
            out.append(
                ImageRecord(
                    id=f"{n:064x}",
                    vector=[1.0] + [0.0] * (DIM - 1),
                    filename=f"IMG_{n:06d}.jpg",
                    content_type="image/jpeg" if rng.random() < 0.9 else "image/png",
                    width=4000,
                    height=3000,
                    bytes=int(rng.integers(500_000, 6_000_000)),
                    created_at=created,
                    taken_at=NOW - int(rng.integers(0, 20 * YEAR)) if dated else None,
                    tags=[TAGS[int(t)] for t in rng.integers(0, len(TAGS), 2)],
                    source="bench",
                    # one in twenty a copy of the image before it, as the worker files them
                    phash=f"{int(rng.integers(0, 2**62)):016x}",
                    dup_of=f"{n - 1:064x}" if n % 20 == 19 else "",
                )
            )
            n += 1
    return out


def load(stack: Stack) -> float:
    settings = MilvusSettings(uri=f"http://127.0.0.1:{stack.settings.ports.milvus}")
    index = MilvusVectorIndex.connect(settings, str(MODEL_DIR), DIM)
    index.attach()
    started = time.perf_counter()
    rows = records(np.random.default_rng(3))
    for start in range(0, len(rows), 2000):
        chunk = [milvus_index._row(r, index.has_keywords) for r in rows[start : start + 2000]]
        index._client.insert(index.collection, chunk)
    index.close()
    return time.perf_counter() - started


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    return {
        "p50": round(statistics.median(ms), 2),
        "p95": round(ms[int(len(ms) * 0.95) - 1], 2),
        "max": round(ms[-1], 2),
        "n": len(ms),
    }


def timed_get(api: httpx.Client, url: str, **params: Any) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = api.get(url, params=params or None)
    took = time.perf_counter() - started
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return took, body


def walk(api: httpx.Client, pages: int, **params: Any) -> tuple[list[float], int]:
    """Follow the timeline `pages` pages from its start; the times and the items seen."""
    times, seen = [], 0
    took, body = timed_get(api, "/api/v1/images", **params)
    times.append(took)
    seen += len(body["items"])
    for _ in range(pages - 1):
        if not body["next"]:
            break
        took, body = timed_get(api, body["next"])
        times.append(took)
        seen += len(body["items"])
    return times, seen


def bench_browse(api: httpx.Client) -> dict[str, Any]:
    timed_get(api, "/api/v1/images")  # connections and the first catalog look
    first = [timed_get(api, "/api/v1/images", limit=50)[0] for _ in range(30)]
    deep, seen = walk(api, PAGES, limit=50)
    tagged, _ = walk(api, 20, limit=50, tags="tag3")
    dated, _ = walk(api, 20, limit=50, taken_from="2015-01-01", taken_to="2019-12-31")
    png, _ = walk(api, 20, limit=50, content_type="image/png")
    return {
        "first_page": percentiles(first),
        "following_cursors": {**percentiles(deep), "items": seen},
        "tag_filter": percentiles(tagged),
        "date_filter": percentiles(dated),
        "type_filter_10pct": percentiles(png),
    }


def bench_stats(api: httpx.Client) -> dict[str, Any]:
    computed, body = timed_get(api, "/api/v1/stats")
    cached = [timed_get(api, "/api/v1/stats")[0] for _ in range(20)]
    return {
        "computed_ms": round(computed * 1000, 1),
        "cached": percentiles(cached),
        "indexed": body["images"]["indexed"],
        "bytes": body["bytes"],
    }


def bench_deletes(api: httpx.Client, first_id: int) -> dict[str, Any]:
    """Deletes of indexed images (rows only, no stored objects: the storage calls find
    nothing); the cache is cleared of each one's three URLs on every nginx (here one)."""
    ids = [f"{n:064x}" for n in range(first_id, first_id + 130)]
    single, bulk_times = [], []
    for image_id in ids[:30]:
        started = time.perf_counter()
        assert api.delete(f"/api/v1/images/{image_id}").status_code == 204
        single.append(time.perf_counter() - started)
    started = time.perf_counter()
    response = api.post("/api/v1/images/delete", json={"ids": ids[30:]})
    bulk_times.append(time.perf_counter() - started)
    assert all(i["status"] == "deleted" for i in response.json()["items"])
    return {"one": percentiles(single), "hundred_at_once_ms": round(bulk_times[0] * 1000, 1)}


def main() -> int:
    run_dir = ROOT / ".run" / "bench-browse"
    stack = Stack(
        own_stack_settings(run_dir),
        extra_env={"INGESTAPI__RATE_LIMIT__ENABLED": "false", "INGESTAPI__MILVUS__TIMEOUT_S": "60"},
    )
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "milvus": "milvus-lite server (local stack)",
        "images": IMAGES,
    }
    try:
        stack.up(["redis", "s3", "milvus"])
        report["load_s"] = round(load(stack), 1)
        stack.up(["ingestapi", "cdnapi", "nginx"])
        with httpx.Client(base_url=stack.settings.url("nginx"), timeout=120) as api:
            report["browse"] = bench_browse(api)
            report["stats"] = bench_stats(api)
            report["delete"] = bench_deletes(api, first_id=0)
        stack.down()
        # the same deletes with no image cache to clear: what clearing it costs
        stack = Stack(
            stack.settings,
            extra_env={**stack.extra_env, "INGESTAPI__CACHE__TARGETS": "[]"},
        )
        stack.up(["ingestapi", "cdnapi", "nginx", "redis", "s3", "milvus"])
        with httpx.Client(base_url=stack.settings.url("nginx"), timeout=120) as api:
            report["delete_without_cache_clearing"] = bench_deletes(api, first_id=1000)
    finally:
        stack.down()
    p50 = report["browse"]["following_cursors"]["p50"]
    report["target"] = {"p50_ms": TARGET_P50_MS, "measured_p50_ms": p50, "met": p50 <= 50}
    save_results("browse", report, markdown(report))
    return 0


def markdown(r: dict[str, Any]) -> str:
    b, s = r["browse"], r["stats"]
    one, bare = r["delete"], r["delete_without_cache_clearing"]
    rows = [
        ("first page", b["first_page"]),
        (f"{b['following_cursors']['n']} pages following cursors", b["following_cursors"]),
        ("tag filter (10% of images)", b["tag_filter"]),
        ("date taken 2015-2019", b["date_filter"]),
        ("content type png (10%)", b["type_filter_10pct"]),
    ]
    lines = [
        "# Browse, stats and delete",
        "",
        f"{r['images']:,} images in {r['milvus']}; {r['machine']}; {r['date']}. "
        f"Through nginx and ingestapi, 50 items a page. Loaded in {r['load_s']} s.",
        "",
        "| request | p50 ms | p95 ms | max ms | n |",
        "|---|---|---|---|---|",
        *[f"| {name} | {p['p50']} | {p['p95']} | {p['max']} | {p['n']} |" for name, p in rows],
        "",
        f"Target: a page in ≤ {TARGET_P50_MS:g} ms p50 at 100k: "
        f"{r['target']['measured_p50_ms']} ms, {'met' if r['target']['met'] else 'NOT met'}.",
        "",
        f"/stats: {s['computed_ms']} ms to compute (sums {s['indexed']:,} sizes), "
        f"{s['cached']['p50']} ms p50 from its cache.",
        "",
        "| delete | with the image cache cleared | without |",
        "|---|---|---|",
        f"| one image, p50 ms | {one['one']['p50']} | {bare['one']['p50']} |",
        f"| 100 at once, ms | {one['hundred_at_once_ms']} | {bare['hundred_at_once_ms']} |",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
