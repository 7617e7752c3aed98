"""`make bench-embed`: how fast each embedding runtime is alone, and how much of it the whole
ingest pipeline delivers, in one run.

1. Raw: for every runtime and dtype, on the ViT-B/32-size model (random weights, built
   offline): images/s at batch 32 in the worker's layout (one process of one thread per core,
   side by side), images/s at batch 1 and the text query's p50 in one process of all cores,
   and the lowest cosine of its vectors to torch fp32's.
2. int8 quality: held-out recall@1/5/10 of the offline model in int8 against fp32.
3. End to end through a running stack (POST → indexed), with the new default config and the
   old one (runtime torch, dtype fp32), at 32 images per request and at 1: images/s, and the
   worker's busy time per image by stage (from its metrics).
4. With --against TREE (another checkout with its own .venv): the default config end to end at
   32 per request, this code and that one taking turns, a few rounds: before and after a change
   in one run, beside each side's own spread.

Writes tests/bench/results/embed.{json,md}.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench.procs import cpu_s_of_tree
from tests.bench.report import RESULTS, save_results
from tests.support.paths import ROOT
from tests.support.polling import eventually

OFFLINE = ROOT / "shared" / "models" / "tiny-clip"
VIT_B32 = ROOT / ".run" / "models" / "vit-b-32-random"
RUNS = [
    ("torch", "fp32"),
    ("torch", "bf16"),
    ("onnx", "fp32"),
    ("onnx", "int8"),
    ("openvino", "fp32"),
    ("openvino", "bf16"),
]


@dataclass(frozen=True)
class Config:
    runtime: str
    dtype: str
    children: int  # worker processes (prefork), each with one model
    threads: int  # embedding.threads per child (0: all cores)


# the old default: torch fp32, one child per core of one thread each; the new: auto (OpenVINO
# here), one child of all cores
OLD_DEFAULT = Config("torch", "fp32", children=os.cpu_count() or 1, threads=1)
NEW_DEFAULT = Config("auto", "auto", children=1, threads=0)
CPU_OF = ("worker", "ingestapi", "s3", "milvus", "redis")
STAGES = ("prepare", "embed", "write", "starved")
POLL_INTERVAL_S = 0.1  # between looks at a job, until its deadline


def timed(fn: Any, items: int, min_seconds: float) -> float:
    """Items per second, repeating ``fn`` (one warm-up call first) for at least min_seconds."""
    fn()
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < min_seconds or done == 0:
        fn()
        done += items
    return done / elapsed


def load(model: str, runtime: str, dtype: str, threads: int, batch: int = 32) -> Any:
    from shared.config import EmbeddingSettings
    from shared.embedding import load_embedder

    settings = EmbeddingSettings(
        model=model,
        device="cpu",
        runtime=runtime,  # type: ignore[arg-type]
        dtype=dtype,  # type: ignore[arg-type]
        batch_size=batch,
        threads=threads,
    )
    return load_embedder(settings)


def photos(count: int) -> list[Any]:
    from shared.images import decode_image
    from tests.bench.photos import camera_jpegs

    return [decode_image(j).image for j in camera_jpegs(count, 2.0)]


def rate_in_process(
    model: str, runtime: str, dtype: str, seconds: float, threads: int
) -> dict[str, Any]:
    """Batch-32 images/s for ``seconds`` (threads 0: all cores)."""
    embedder = load(model, runtime, dtype, threads=threads)
    images = photos(32)
    rate = timed(lambda: embedder.embed_images(images), 32, seconds)
    return {"images_per_s_b32": round(rate, 2), "dtype": embedder.info()["dtype"]}


def alone_in_process(model: str, runtime: str, dtype: str, vectors_out: str) -> dict[str, Any]:
    """One process of all cores: batch-1 images/s, the text query's p50, and its vectors."""
    import numpy as np

    from shared.embedding.precision import calibration_images

    embedder = load(model, runtime, dtype, threads=0)
    image = photos(1)
    b1 = timed(lambda: embedder.embed_images(image), 1, 3.0)
    times = []
    for n in range(60):
        started = time.perf_counter()
        embedder.embed_texts([f"a photo of {n} red cars parked at night"])
        times.append(time.perf_counter() - started)
    texts = [f"a photo of {n} dogs on a beach" for n in range(16)]
    np.savez(
        vectors_out,
        images=embedder.embed_images(calibration_images(16) + photos(16)),
        texts=embedder.embed_texts(texts),
    )
    return {
        "images_per_s_b1": round(b1, 2),
        "text_ms_p50": round(1000 * statistics.median(times[10:]), 2),
        "info": {k: v for k, v in embedder.info().items() if k not in ("model", "text_model")},
    }


def int8_recall_in_process() -> dict[str, Any]:
    from imagesearch_dev.training.evaluate import recall
    from imagesearch_dev.training.train import split_scenes

    held_out = split_scenes(seed=0, held_out=0.15)[1]
    result = {}
    for runtime, dtype in (("torch", "fp32"), ("onnx", "fp32"), ("onnx", "int8")):
        embedder = load(str(OFFLINE), runtime, dtype, threads=0)
        result[f"{runtime} {dtype}"] = recall(
            embedder.embed_images, embedder.embed_texts, held_out, seed=1
        )
    return result


def child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench.embed", *args],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def raw_runs(model: Path, processes: int, seconds: float) -> list[dict[str, Any]]:
    import numpy as np

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for runtime, dtype in RUNS:
            print(f"raw {runtime} {dtype}", flush=True)
            vectors = str(Path(folder) / f"{runtime}-{dtype}.npz")
            alone = child("--alone", str(model), runtime, dtype, vectors)
            one = child("--rate", str(model), runtime, dtype, str(seconds), "0")
            argv = ["--rate", str(model), runtime, dtype, str(seconds), "1"]
            procs = [
                subprocess.Popen(
                    [sys.executable, "-m", "tests.bench.embed", *argv],
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
                for _ in range(processes)
            ]
            rates = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
            rows.append(
                {
                    "runtime": runtime,
                    "dtype": dtype,
                    "images_per_s_b32": round(sum(r["images_per_s_b32"] for r in rates), 2),
                    "images_per_s_b32_one_process": one["images_per_s_b32"],
                    **alone,
                    "vectors": vectors,
                }
            )
        reference = np.load(rows[0]["vectors"])
        for row in rows:
            mine = np.load(row.pop("vectors"))
            row["min_cosine"] = round(
                float(min(np.min(np.sum(reference[k] * mine[k], axis=1)) for k in reference)), 6
            )
    return rows


def bench_e2e(
    model: Path,
    images: int,
    config: Config,
    per_request: int,
    extra_env: dict[str, str] | None = None,
    enricher: bool = False,
) -> dict[str, Any]:
    """Ingest throughput through a stack of its own: POST → every image indexed. With
    ``enricher`` the enrichment worker runs beside the index worker (otherwise what is queued
    for enrichment waits), and the time until its backlog is empty is measured too."""
    import httpx

    from imagesearch_dev.localstack import Stack
    from tests.bench.photos import camera_jpegs
    from tests.support.metrics import metric_sum
    from tests.support.ports import free_ports
    from tests.support.stack import own_stack_settings

    run_dir = ROOT / ".run" / "bench-stack"
    metrics_port = free_ports(1)[0]
    settings = own_stack_settings(run_dir, worker_concurrency=config.children)
    env = {
        "INGESTWORKER__EMBEDDING__MODEL": str(model),
        "INGESTWORKER__EMBEDDING__BATCH_SIZE": "32",
        "INGESTWORKER__EMBEDDING__THREADS": str(config.threads),
        "INGESTWORKER__EMBEDDING__RUNTIME": config.runtime,
        "INGESTWORKER__EMBEDDING__DTYPE": config.dtype,
        "INGESTWORKER__METRICS__PORT": str(metrics_port),
        "INGESTAPI__INGEST__TASK_BATCH_SIZE": "32",
        "INGESTAPI__RATE_LIMIT__UPLOAD": "1000000/minute",
        "SEARCHAPI__EMBEDDING__MODEL": str(model),
        **(extra_env or {}),
    }
    stack = Stack(settings, extra_env=env)
    warmup = camera_jpegs(8, 2.0, seed=1)
    payload = camera_jpegs(images, 2.0, seed=2 + per_request)
    metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"

    def stage_seconds() -> dict[str, float]:
        text = httpx.get(metrics_url, timeout=10).text
        name = "imagesearch_worker_stage_seconds_total"
        return {s: metric_sum(text, name, stage=s) or 0.0 for s in STAGES}

    try:
        stack.up(
            ["redis", "s3", "milvus", "worker", *(["enricher"] if enricher else []), "ingestapi"]
        )
        with httpx.Client(base_url=settings.url("ingestapi"), timeout=120) as client:
            # every worker child loads its model on start: wait for that before timing
            _ingest(client, [warmup[i : i + 2] for i in range(0, 8, 2)], clients=4)
            if enricher:  # and the enrichment worker's models, as in a stack that has run
                _until_enriched(client, time.perf_counter(), timeout_s=600)
            before, cpu_before = stage_seconds(), cpu_seconds(stack)
            batches = [payload[i : i + per_request] for i in range(0, images, per_request)]
            started = time.perf_counter()
            uploaded = _ingest(client, batches, clients=4 if per_request > 1 else 8)
            elapsed = time.perf_counter() - started
            after, cpu_after = stage_seconds(), cpu_seconds(stack)
            backlog = client.get("/api/v1/stats").json()["enrichment_backlog"]
            enriched_s = (
                _until_enriched(client, started, timeout_s=600 + 5 * images) if enricher else None
            )
        log = (run_dir / "logs" / "worker.log").read_text(errors="replace")
        ready = [line for line in log.splitlines() if "model_ready" in line][-1:]
    finally:
        stack.down()
    return {
        "runtime": config.runtime,
        "dtype": config.dtype,
        "children": config.children,
        "threads": config.threads,
        "per_request": per_request,
        "images": images,
        "seconds": round(elapsed, 2),
        "uploads_answered_s": round(uploaded, 2),
        "images_per_s": round(images / elapsed, 2),
        "ms_per_image": {s: round(1000 * (after[s] - before[s]) / images, 1) for s in STAGES},
        "cpu_ms_per_image": {
            name: round(1000 * (cpu_after[name] - cpu_before[name]) / images, 1)
            for name in cpu_before
        },
        "model_ready": ready[0].split("model_ready", 1)[-1].strip() if ready else "",
        "enrichment_backlog_when_indexed": backlog,
        "enriched_s": round(enriched_s, 2) if enriched_s is not None else None,
    }


def _until_enriched(client: Any, started: float, timeout_s: float) -> float:
    """Seconds from ``started`` until the enrichment backlog is empty."""

    def empty() -> bool:
        return bool(client.get("/api/v1/stats").json()["enrichment_backlog"] == 0)

    eventually(empty, timeout_s, "the enrichment backlog emptying", interval_s=0.5)
    return time.perf_counter() - started


def cpu_seconds(stack: Any) -> dict[str, float]:
    """CPU seconds so far of each server of the stack, and of this client."""
    pids = {name: stack.table.running_pid(name) for name in CPU_OF}
    used = {name: cpu_s_of_tree(pid) for name, pid in pids.items() if pid is not None}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {**used, "client": usage.ru_utime + usage.ru_stime}


def _ingest(client: Any, batches: list[list[bytes]], clients: int) -> float:
    """POST the batches, wait until every job is indexed; seconds until the last 202."""

    def post(batch: list[bytes]) -> str:
        files = [("files", (f"{i}.jpg", b, "image/jpeg")) for i, b in enumerate(batch)]
        response = client.post("/api/v1/images", files=files)
        response.raise_for_status()
        statuses = {item["status"] for item in response.json()["items"]}
        assert statuses == {"accepted"}, f"every image must be new to be timed: {statuses}"
        return str(response.json()["job_id"])

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        jobs = list(pool.map(post, batches))
    uploaded = time.perf_counter() - started
    deadline = time.monotonic() + 900
    for job_id in jobs:

        def finished(job_id: str = job_id) -> bool:
            state = client.get(f"/api/v1/jobs/{job_id}").json()["state"]
            return state in ("indexed", "failed")

        left_s = max(0.0, deadline - time.monotonic())
        eventually(finished, left_s, f"job {job_id} indexed", POLL_INTERVAL_S)
    return uploaded


def before_after(tree: Path, images: int, rounds: int) -> dict[str, Any]:
    """The default config end to end (32 per request), run by ``tree``'s code and by this one
    in turns: each side's images/s per round, its median and its spread (max - min)."""
    code = (
        "import json, sys; from pathlib import Path; "
        "from tests.bench.embed import NEW_DEFAULT, bench_e2e; "
        "print(json.dumps(bench_e2e(Path(sys.argv[1]), int(sys.argv[2]), NEW_DEFAULT, 32)))"
    )
    sides = {"before": tree.resolve(), "after": ROOT}
    rates: dict[str, list[float]] = {side: [] for side in sides}
    for n in range(rounds):
        for side, root in sides.items():
            print(f"end to end, {side} ({root}), round {n + 1}", flush=True)
            argv = [str(root / ".venv" / "bin" / "python"), "-c", code, str(VIT_B32), str(images)]
            out = subprocess.run(argv, cwd=root, capture_output=True, text=True, check=True)
            rates[side].append(json.loads(out.stdout.strip().splitlines()[-1])["images_per_s"])
    commit = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "before_commit": commit,
        **{
            side: {
                "images_per_s": runs,
                "median": statistics.median(runs),
                "spread": round(max(runs) - min(runs), 2),
            }
            for side, runs in rates.items()
        },
    }


def markdown(report: dict[str, Any]) -> str:
    raw, e2e, recall = report["raw"], report["e2e"], report["int8_recall"]
    chosen = e2e["new_32"]["chosen"]
    lines = [
        "# Embedding benchmark",
        "",
        f"{report['machine']}; {report['date']}. Model: ViT-B/32 size with random weights "
        "(speed depends on the architecture, not the weights).",
        "",
        "## Raw, each runtime and dtype",
        "",
        "b32: images/s at batch 32 on pre-decoded 2 MP photos, in one process of all "
        f"{report['cores']} cores, and in {report['cores']} processes of 1 thread side by side "
        "(added up). b1 and the text query: one process of all cores. Cosine: the lowest "
        "between its vectors and torch fp32's, over 32 images and 16 texts.",
        "",
        f"| runtime | dtype | b32 img/s, 1 x {report['cores']} threads | b32 img/s, "
        f"{report['cores']} x 1 | b1 img/s | text query p50 ms | min cosine to fp32 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in raw:
        lines.append(
            f"| {r['runtime']} | {r['dtype']} | {r['images_per_s_b32_one_process']} "
            f"| {r['images_per_s_b32']} | {r['images_per_s_b1']} | {r['text_ms_p50']} "
            f"| {r['min_cosine']} |"
        )
    lines += [
        "",
        "## int8: held-out recall of the offline model",
        "",
        "| runtime dtype | gallery | recall@1 | recall@5 | recall@10 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, r in recall.items():
        cells = [f"{r['gallery']:.0f}"] + [f"{r[f'recall@{k}']:.4f}" for k in (1, 5, 10)]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## End to end",
        "",
        f"{e2e['images']} 2 MP JPEGs POSTed to ingestapi (32 per request from 4 clients, or 1 "
        "per request from 8), stored in S3, one Celery worker (children x threads as in each "
        "row); timed until every job reports indexed. The worker's busy time per image, by "
        "stage, from its metrics: prepare (fetch, decode, thumbnail and preview, S3 writes; "
        "summed over its threads, waits included), embed, write (Milvus rows and states), "
        "starved (the model waiting for prepared images). Then the CPU time per image of "
        "each process: everything shares the same cores, so the sum bounds the rate.",
        "",
        "| config | children x threads | per request | img/s | prepare ms/img | embed ms/img "
        "| write ms/img | starved ms/img |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, label in (
        ("new_32", "new default"),
        ("new_1", "new default"),
        ("old_32", "old default (torch fp32)"),
        ("old_1", "old default (torch fp32)"),
    ):
        run = e2e[key]
        ms = run["ms_per_image"]
        lines.append(
            f"| {label}: {run['runtime_used']} {run['dtype_used']} "
            f"| {run['children']} x {run['threads'] or 'all'} | {run['per_request']} "
            f"| {run['images_per_s']} | {ms['prepare']} | {ms['embed']} | {ms['write']} "
            f"| {ms['starved']} |"
        )
    names = list(e2e["new_32"]["cpu_ms_per_image"])
    lines += [
        "",
        "| config | per request | "
        + " | ".join(f"{n} CPU ms/img" for n in names)
        + " | total CPU ms/img | bound at "
        f"{report['cores']} cores, img/s |",
        "| --- | --- | " + "--- | " * (len(names) + 2),
    ]
    for key in ("new_32", "new_1", "old_32", "old_1"):
        run = e2e[key]
        cpu = run["cpu_ms_per_image"]
        total = sum(cpu.values())
        per_process = " | ".join(str(cpu[n]) for n in names)
        lines.append(
            f"| {run['runtime_used']} {run['dtype_used']} | {run['per_request']} | {per_process} "
            f"| {round(total, 1)} | {round(report['cores'] * 1000 / total, 1)} |"
        )
    targets = report["targets"]
    lines += [
        "",
        f"The default config chose **{chosen}** here.",
        "",
        "| target | measured | met |",
        "| --- | --- | --- |",
    ]
    for t in targets:
        lines.append(f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else 'no'} |")
    if against := e2e.get("against"):
        lines += [
            "",
            f"## Before and after, in one run (against {against['before_commit']})",
            "",
            "The default config, 32 per request, the two checkouts' code taking turns.",
            "",
            "| code | img/s per round | median | spread (max - min) |",
            "| --- | --- | --- | --- |",
        ]
        for side in ("before", "after"):
            runs = against[side]
            rounds = ", ".join(str(r) for r in runs["images_per_s"])
            lines.append(f"| {side} | {rounds} | {runs['median']} | {runs['spread']} |")
    return "\n".join(lines) + "\n"


def used(run: dict[str, Any]) -> tuple[str, str]:
    """The runtime and dtype the worker logged at model_ready."""
    fields = dict(part.split("=", 1) for part in run["model_ready"].split() if "=" in part)
    runtime, dtype = fields.get("runtime", run["runtime"]), fields.get("dtype", run["dtype"])
    return runtime.strip("'\""), dtype.strip("'\"")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=384, help="images per end-to-end run")
    parser.add_argument("--seconds", type=float, default=15.0, help="each raw rate's duration")
    parser.add_argument("--rate", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--alone", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--recall", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--against", type=Path, help="another checkout to compare end to end")
    parser.add_argument("--rounds", type=int, default=3, help="turns each side takes (--against)")
    parser.add_argument(
        "--against-only",
        action="store_true",
        help="with --against: only the before-and-after run, into the results kept",
    )
    args = parser.parse_args()
    if args.rate:
        model, runtime, dtype, seconds, threads = args.rate
        print(json.dumps(rate_in_process(model, runtime, dtype, float(seconds), int(threads))))
        return 0
    if args.alone:
        print(json.dumps(alone_in_process(*args.alone)))
        return 0
    if args.recall:
        print(json.dumps(int8_recall_in_process()))
        return 0

    from imagesearch_dev.clip_builder import build_random, vit_b32_config

    if not (VIT_B32 / "model.safetensors").exists():
        build_random(VIT_B32, vit_b32_config())
    if args.against and args.against_only:
        kept = json.loads((RESULTS / "embed.json").read_text())
        kept["e2e"]["against"] = before_after(args.against, args.images, args.rounds)
        save_results("embed", kept, markdown(kept))
        return 0
    cores = os.cpu_count() or 1
    raw = raw_runs(VIT_B32, cores, args.seconds)
    print("int8 recall", flush=True)
    recall = child("--recall")
    e2e: dict[str, Any] = {"images": args.images}
    for key, config, per_request in (
        ("new_32", NEW_DEFAULT, 32),
        ("old_32", OLD_DEFAULT, 32),
        ("new_1", NEW_DEFAULT, 1),
        ("old_1", OLD_DEFAULT, 1),
    ):
        print(f"end to end {key}", flush=True)
        run = bench_e2e(VIT_B32, args.images, config, per_request)
        run["runtime_used"], run["dtype_used"] = used(run)
        e2e[key] = run
    chosen = (e2e["new_32"]["runtime_used"], e2e["new_32"]["dtype_used"])
    e2e["new_32"]["chosen"] = f"{chosen[0]} {chosen[1]}"
    raw_chosen = next(r for r in raw if (r["runtime"], r["dtype"]) == chosen)
    raw_old = next(r for r in raw if (r["runtime"], r["dtype"]) == ("torch", "fp32"))
    raw_rate = raw_chosen["images_per_s_b32_one_process"]  # the new default's layout
    new32, new1, old32 = (e2e[k]["images_per_s"] for k in ("new_32", "new_1", "old_32"))
    ratios = {
        "e2e_32_over_raw": round(new32 / raw_rate, 3),
        "e2e_1_over_e2e_32": round(new1 / new32, 3),
        "new_over_old_e2e": round(new32 / old32, 3),
        "text_speedup": round(raw_old["text_ms_p50"] / raw_chosen["text_ms_p50"], 3),
    }
    targets = [
        {
            "target": "end to end, 32 per request >= 0.9 x raw b32, chosen runtime and layout",
            "measured": f"{new32} / {raw_rate} = {ratios['e2e_32_over_raw']}",
            "met": ratios["e2e_32_over_raw"] >= 0.9,
        },
        {
            "target": "end to end, 1 per request >= 0.9 x 32 per request",
            "measured": f"{new1} / {new32} = {ratios['e2e_1_over_e2e_32']}",
            "met": ratios["e2e_1_over_e2e_32"] >= 0.9,
        },
        {
            "target": "new default >= 2.5 x old default, end to end (32 per request)",
            "measured": f"{new32} / {old32} = {ratios['new_over_old_e2e']}",
            "met": ratios["new_over_old_e2e"] >= 2.5,
        },
        {
            "target": "text query p50 >= 1.5 x faster than torch fp32",
            "measured": f"{raw_old['text_ms_p50']} / {raw_chosen['text_ms_p50']} ms = "
            f"{ratios['text_speedup']}",
            "met": ratios["text_speedup"] >= 1.5,
        },
    ]
    if args.against:
        e2e["against"] = before_after(args.against, args.images, args.rounds)
    report = {
        "machine": f"{platform.machine()}, {cores} cores, Python {platform.python_version()}",
        "cores": cores,
        "date": time.strftime("%Y-%m-%d"),
        "raw": raw,
        "int8_recall": recall,
        "e2e": e2e,
        "ratios": ratios,
        "targets": targets,
    }
    save_results("embed", report, markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
