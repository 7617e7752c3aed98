"""`make bench-embed`: how fast the embedder is, alone and behind the whole ingest pipeline.

For the configured model and a random-weight model of ViT-B/32 size: images/s at batch 1/8/32
in fp32 and bf16, from decoded images and from 2 MP / 12 MP JPEG bytes (decode included),
texts/s, peak RSS (each model in its own process); then the end-to-end ingest throughput
(POST → indexed, through a running stack) against the raw embedder throughput for the same
model and batch size, in one run. Writes tests/bench/results/embed.{json,md}.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "bench" / "results"
CONFIGURED = ROOT / "shared" / "models" / "tiny-clip"
VIT_B32 = ROOT / ".run" / "models" / "vit-b-32-random"
BATCHES = (1, 8, 32)

POLL_INTERVAL_S = 0.1  # between looks at a job, until its deadline


def timed(fn: Any, items: int, min_seconds: float = 2.0) -> float:
    """Items per second, repeating ``fn`` (one warm-up call first) for at least min_seconds."""
    fn()
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < min_seconds or done == 0:
        fn()
        done += items
    return done / elapsed


def bench_model(model: str, dtype: str, threads: int) -> dict[str, Any]:
    from PIL import Image

    from shared.config import EmbeddingSettings
    from shared.embedding import load_embedder
    from shared.images import decode_image
    from tests.bench.photos import camera_jpegs

    embedder = load_embedder(
        EmbeddingSettings(model=model, device="cpu", dtype=dtype, batch_size=32, threads=threads)  # type: ignore[arg-type]
    )
    jpegs = {"2MP": camera_jpegs(32, 2.0), "12MP": camera_jpegs(32, 12.0)}
    decoded = [decode_image(j).image for j in jpegs["2MP"]]
    result: dict[str, Any] = {
        "model": model,
        "dtype": dtype,
        "threads": threads,
        "dim": embedder.dim,
    }
    for batch in BATCHES:
        images: list[Image.Image] = decoded[:batch]
        rate = timed(partial(embedder.embed_images, images), batch)
        result[f"images_per_s_b{batch}"] = round(rate, 2)
        for label, data in jpegs.items():
            rate = timed(partial(_decode_and_embed, embedder, data[:batch]), batch)
            result[f"images_per_s_b{batch}_{label}_jpeg"] = round(rate, 2)
    text = ["a photo of a red car at night"]
    result["text_ms_b1"] = round(1000 / timed(lambda: embedder.embed_texts(text), 1), 2)
    texts = [f"a photo of {i} dogs on a beach" for i in range(32)]
    result["texts_per_s_b32"] = round(timed(lambda: embedder.embed_texts(texts), 32), 1)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def bench_raw(model: str, threads: int, seconds: float, dtype: str) -> dict[str, Any]:
    """Only the batch-32 rate on pre-decoded images, for a fixed time (to run side by side)."""
    from shared.config import EmbeddingSettings
    from shared.embedding import load_embedder
    from shared.images import decode_image
    from tests.bench.photos import camera_jpegs

    embedder = load_embedder(
        EmbeddingSettings(model=model, device="cpu", batch_size=32, threads=threads, dtype=dtype)  # type: ignore[arg-type]
    )
    images = [decode_image(j).image for j in camera_jpegs(32, 2.0)]
    return {
        "images_per_s_b32": round(timed(partial(embedder.embed_images, images), 32, seconds), 2),
        "dtype": embedder.info()["dtype"],
    }


def raw_rate(
    model: Path, processes: int, threads: int, dtype: str, seconds: float = 20.0
) -> tuple[float, str]:
    """The embedder alone, batch 32, in N processes side by side: their rates added up, and
    the dtype they ran in (what ``auto`` chose)."""
    argv = [
        sys.executable,
        "-m",
        "tests.bench.embed",
        "--raw",
        str(model),
        str(threads),
        str(seconds),
        dtype,
    ]
    procs = [
        subprocess.Popen(
            argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        for _ in range(processes)
    ]
    results = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    return round(sum(float(r["images_per_s_b32"]) for r in results), 2), str(results[0]["dtype"])


def _decode_and_embed(embedder: Any, jpegs: list[bytes]) -> None:
    from shared.images import decode_image

    embedder.embed_images([decode_image(j).image for j in jpegs])


def in_subprocess(model: Path, dtype: str, threads: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.embed", "--one", str(model), dtype, str(threads)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def bench_e2e(model: Path, images: int, concurrency: int, dtype: str) -> dict[str, Any]:
    """Ingest throughput through a stack of its own: POST → every image indexed."""
    import shutil

    import httpx

    from imagesearch_dev.localstack import Stack, StackSettings
    from tests.bench.photos import camera_jpegs
    from tests.support.ports import free_ports

    run_dir = ROOT / ".run" / "bench-stack"
    shutil.rmtree(run_dir, ignore_errors=True)
    names = ["nginx", "ingestapi", "searchapi", "cdnapi", "redis", "s3", "milvus"]
    settings = StackSettings(
        run_dir=run_dir,
        ports=dict(zip(names, free_ports(len(names)), strict=True)),  # type: ignore[arg-type]
        worker_concurrency=concurrency,
    )
    env = {
        "INGESTWORKER__EMBEDDING__MODEL": str(model),
        "INGESTWORKER__EMBEDDING__BATCH_SIZE": "32",
        "INGESTWORKER__EMBEDDING__THREADS": "1",
        "INGESTWORKER__EMBEDDING__DTYPE": dtype,
        "INGESTAPI__INGEST__TASK_BATCH_SIZE": "32",
        "SEARCHAPI__EMBEDDING__MODEL": str(model),
    }
    stack = Stack(settings, extra_env=env)
    warmup, payload = camera_jpegs(8, 2.0, seed=1), camera_jpegs(images, 2.0, seed=2)
    try:
        stack.up(["redis", "s3", "milvus", "worker", "ingestapi"])
        with httpx.Client(base_url=settings.url("ingestapi"), timeout=120) as client:
            # every worker child loads its model on start: wait for that before timing
            _ingest(client, [warmup[i : i + 2] for i in range(0, 8, 2)])
            batches = [payload[i : i + 32] for i in range(0, images, 32)]
            started = time.perf_counter()
            uploaded = _ingest(client, batches)
            elapsed = time.perf_counter() - started
    finally:
        stack.down()
    return {
        "images": images,
        "seconds": round(elapsed, 2),
        "uploads_answered_s": round(uploaded, 2),
        "images_per_s": round(images / elapsed, 2),
    }


def _ingest(client: Any, batches: list[list[bytes]]) -> float:
    """POST the batches, wait until every job is indexed; seconds until the last 202."""
    from concurrent.futures import ThreadPoolExecutor

    def post(batch: list[bytes]) -> str:
        files = [("files", (f"{i}.jpg", b, "image/jpeg")) for i, b in enumerate(batch)]
        response = client.post("/api/v1/images", files=files)
        response.raise_for_status()
        statuses = {item["status"] for item in response.json()["items"]}
        assert statuses == {"accepted"}, f"every image must be new to be timed: {statuses}"
        return str(response.json()["job_id"])

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        jobs = list(pool.map(post, batches))
    uploaded = time.perf_counter() - started
    deadline = time.monotonic() + 600
    for job_id in jobs:
        while client.get(f"/api/v1/jobs/{job_id}").json()["state"] not in ("indexed", "failed"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} not indexed in time")
            time.sleep(POLL_INTERVAL_S)
    return uploaded


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Embedding benchmark",
        "",
        f"{report['machine']}; {report['date']}. Images/s (higher is better); `2MP`/`12MP` rows",
        "include the JPEG decode (reduced-size draft decode).",
        "",
        "| model | dtype | b1 | b8 | b32 | b1 2MP | b8 2MP | b32 2MP | b1 12MP | b8 12MP "
        "| b32 12MP | text ms (b1) | texts/s (b32) | peak RSS MB |",
        "| --- | --- | " + "--- | " * 12,
    ]
    for r in report["models"]:
        cells = [r[f"images_per_s_b{b}"] for b in BATCHES]
        cells += [r[f"images_per_s_b{b}_2MP_jpeg"] for b in BATCHES]
        cells += [r[f"images_per_s_b{b}_12MP_jpeg"] for b in BATCHES]
        cells += [r["text_ms_b1"], r["texts_per_s_b32"], r["peak_rss_mb"]]
        name = Path(r["model"]).name
        lines.append(f"| {name} | {r['dtype']} | " + " | ".join(str(c) for c in cells) + " |")
    e2e = report["ingest"]
    lines += [
        "",
        "## End-to-end ingest vs raw embedder",
        "",
        f"Model `{Path(e2e['model']).name}`, batch 32, in the dtype the default "
        f"`embedding.dtype: auto` measured and chose here: **{e2e['dtype']}**. Raw: the "
        "embedder alone on "
        f"pre-decoded 2 MP photos, either one process of {e2e['raw_threads']} threads or "
        f"{e2e['worker_children']} processes of 1 thread side by side (the worker's layout). "
        "End to end: "
        f"{e2e['images']} 2 MP JPEGs POSTed to ingestapi (4 concurrent requests of 32), "
        f"stored in S3, one Celery worker with {e2e['worker_children']} prefork children "
        "(1 thread each) decoding, embedding and upserting into Milvus; timed until every "
        f"job reports indexed ({e2e['seconds']} s; the last upload was answered after "
        f"{e2e['uploads_answered_s']} s: API, hashing and the S3 server share the same 2 cores "
        "with the worker meanwhile).",
        "",
        "| raw embedder | raw img/s | end-to-end img/s | end-to-end / raw |",
        "| --- | --- | --- | --- |",
        f"| 1 process x {e2e['raw_threads']} threads | {e2e['raw_images_per_s']} "
        f"| {e2e['images_per_s']} | **{e2e['ratio']}** |",
        f"| {e2e['worker_children']} processes x 1 thread | "
        f"{e2e['raw_side_by_side_images_per_s']} | {e2e['images_per_s']} "
        f"| **{e2e['ratio_same_layout']}** |",
        "",
        f"The same end-to-end run with the old default, fp32 ({e2e['old_default']['seconds']} s):",
        "",
        "| dtype | raw img/s (processes side by side) | end-to-end img/s | end-to-end / raw |",
        "| --- | --- | --- | --- |",
        f"| {e2e['dtype']} (auto, new default) | {e2e['raw_side_by_side_images_per_s']} "
        f"| {e2e['images_per_s']} | {e2e['ratio_same_layout']} |",
        f"| fp32 (old default) | {e2e['old_default']['raw_side_by_side_images_per_s']} "
        f"| {e2e['old_default']['images_per_s']} | {e2e['old_default']['ratio_same_layout']} |",
        "",
        f"New default over old, end to end: **{e2e['new_over_old']}x**.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--one", nargs=3, metavar=("MODEL", "DTYPE", "THREADS"), help=argparse.SUPPRESS
    )
    parser.add_argument("--images", type=int, default=384, help="images in the end-to-end run")
    parser.add_argument("--raw", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raw:
        raw = bench_raw(args.raw[0], int(args.raw[1]), float(args.raw[2]), args.raw[3])
        print(json.dumps(raw))
        return 0
    if args.one:
        print(json.dumps(bench_model(args.one[0], args.one[1], int(args.one[2]))))
        return 0

    from imagesearch_dev.clip_builder import build_random, vit_b32_config

    if not (VIT_B32 / "model.safetensors").exists():
        build_random(VIT_B32, vit_b32_config())
    threads = os.cpu_count() or 1
    models = []
    for model in (CONFIGURED, VIT_B32):
        for dtype in ("fp32", "bf16"):
            print(f"benchmarking {model.name} {dtype}", flush=True)
            models.append(in_subprocess(model, dtype, threads))
    print("raw embedder, then end-to-end ingest", flush=True)
    # both raw layouts right before the end-to-end runs, 20 s each: the box drifts over minutes
    one_process, chosen = raw_rate(VIT_B32, processes=1, threads=threads, dtype="auto")
    side_by_side, _ = raw_rate(VIT_B32, processes=threads, threads=1, dtype="auto")
    old_side_by_side, _ = raw_rate(VIT_B32, processes=threads, threads=1, dtype="fp32")
    e2e = bench_e2e(VIT_B32, args.images, concurrency=threads, dtype="auto")
    old = bench_e2e(VIT_B32, args.images, concurrency=threads, dtype="fp32")
    e2e.update(
        model=str(VIT_B32),
        dtype=chosen,
        raw_threads=threads,
        worker_children=threads,
        raw_images_per_s=one_process,
        raw_side_by_side_images_per_s=side_by_side,
        ratio=round(e2e["images_per_s"] / one_process, 3),
        ratio_same_layout=round(e2e["images_per_s"] / side_by_side, 3),
        old_default=dict(
            old,
            dtype="fp32",
            raw_side_by_side_images_per_s=old_side_by_side,
            ratio_same_layout=round(old["images_per_s"] / old_side_by_side, 3),
        ),
        new_over_old=round(e2e["images_per_s"] / old["images_per_s"], 3),
    )
    report = {
        "machine": f"{platform.machine()}, {threads} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "models": models,
        "ingest": e2e,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "embed.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "embed.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
