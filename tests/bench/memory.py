"""`make bench-memory`: each service's peak memory with the production model's size, under
load, for the deployments' memory requests and limits (docker-compose.yml, docker/k8s).

The stack runs as shipped (one worker child, the default runtime and dtype) with a random-weight
ViT-B/32 in the exact layout of the production default (laion/CLIP-ViT-B-32-laion2B-s34B-b79K):
memory depends on the architecture, not the weights. Load: uploads of 12 MP and 48 MP photos in
requests of 32, text, image and similar searches from 4 clients, and originals and copies
streamed by cdnapi, all at once. Each process's peak is the kernel's high-water mark (VmHWM),
so no spike between samples is missed; a service's peak sums its processes (the worker: parent
and children). Writes tests/bench/results/memory.{json,md}; tests/unit/test_deployment.py
checks every memory limit is at least LIMIT_FACTOR times these peaks.
"""

import os
import platform
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from imagesearch_dev.clip_builder import build_laion_layout
from imagesearch_dev.localstack import Stack
from tests.bench.photos import camera_jpegs
from tests.bench.procs import peak_rss_bytes, pids_of_tree
from tests.bench.report import save_results
from tests.support.paths import ROOT
from tests.support.polling import finished_job
from tests.support.stack import own_stack_settings

MODEL = ROOT / ".run" / "models" / "laion-clip-vit-b-32-layout"
SERVICES = ["ingestapi", "searchapi", "cdnapi", "worker", "beat"]
# the deployments' limits are at least this many times the measured peak
LIMIT_FACTOR = 1.5
PHOTOS_12MP, PHOTOS_48MP, PER_REQUEST = 96, 8, 32
SEARCHES = 300
WORDS = ["red car at night", "a dog on a beach", "snow", "two people", "a green field"]


class PeakWatcher(threading.Thread):
    """Every process of each service's tree as it appears, and its high-water mark."""

    def __init__(self, roots: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.roots = roots
        self.peaks: dict[str, dict[int, int]] = {name: {} for name in roots}
        self.stopped = threading.Event()

    def run(self) -> None:
        while True:
            self.sample()
            if self.stopped.wait(0.2):
                self.sample()
                return

    def sample(self) -> None:
        for name, root in self.roots.items():
            for pid in pids_of_tree(root):
                seen = self.peaks[name]
                seen[pid] = max(seen.get(pid, 0), peak_rss_bytes(pid))

    def mib(self) -> dict[str, float]:
        return {name: round(sum(p.values()) / 2**20, 1) for name, p in self.peaks.items()}


def load(stack: Stack) -> dict[str, Any]:
    uploads = camera_jpegs(PHOTOS_12MP, 12.0, seed=11) + camera_jpegs(PHOTOS_48MP, 48.0, seed=12)
    with (
        httpx.Client(base_url=stack.settings.url("ingestapi"), timeout=300) as ingest,
        httpx.Client(base_url=stack.settings.url("searchapi"), timeout=60) as search,
        httpx.Client(base_url=stack.settings.url("cdnapi"), timeout=60) as cdn,
    ):

        def post(batch: list[bytes]) -> str:
            files = [("files", (f"{i}.jpg", b, "image/jpeg")) for i, b in enumerate(batch)]
            response = ingest.post("/api/v1/images", files=files)
            response.raise_for_status()
            return str(response.json()["job_id"])

        def searches(client: int) -> int:
            done = 0
            for i in range(client, SEARCHES, 4):
                if i % 3 == 0:
                    r = search.post(
                        "/api/v1/image/search",
                        files={"file": ("q.jpg", uploads[i % len(uploads)], "image/jpeg")},
                    )
                else:
                    r = search.get("/api/v1/image/search", params={"text": WORDS[i % 5]})
                r.raise_for_status()
                for item in r.json()["items"][:3]:
                    search.get(f"/api/v1/images/{item['id']}/similar").raise_for_status()
                    for size in ("", "/thumbnail", "/preview"):
                        cdn.get(f"/images/{item['id']}{size}").raise_for_status()
                done += 1
            return done

        batches = [uploads[i : i + PER_REQUEST] for i in range(0, len(uploads), PER_REQUEST)]
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            jobs = list(pool.map(post, batches))
            searched = sum(pool.map(searches, range(4)))
            states = [finished_job(ingest, job, timeout_s=900)["state"] for job in jobs]
        return {
            "uploaded": len(uploads),
            "searches": searched,
            "job_states": sorted(set(states)),
            "seconds": round(time.monotonic() - started, 1),
        }


def main() -> None:
    if not (MODEL / "model.safetensors").exists():
        build_laion_layout(MODEL)
    run_dir = ROOT / ".run" / "bench-memory"
    settings = own_stack_settings(run_dir, worker_concurrency=1)
    stack = Stack(
        settings,
        extra_env={
            "INGESTWORKER__EMBEDDING__MODEL": str(MODEL),
            "SEARCHAPI__EMBEDDING__MODEL": str(MODEL),
            "INGESTAPI__RATE_LIMIT__ENABLED": "false",
            "SEARCHAPI__RATE_LIMIT__ENABLED": "false",
        },
        # a cache of its own for each process that embeds: each exports the model afresh, as a
        # new pod without a shared volume does, and that start-up is in its peak
        process_env={
            name: {"XDG_CACHE_HOME": str(run_dir / f"cache-{name}")}
            for name in ("worker", "searchapi")
        },
    )
    try:
        stack.up(["redis", "s3", "milvus", *SERVICES])
        roots = {name: stack.table.running_pid(name) for name in SERVICES}
        watcher = PeakWatcher({name: pid for name, pid in roots.items() if pid})
        watcher.start()
        # started with the model load already behind: the start-up peak is in VmHWM too
        work = load(stack)
        watcher.stopped.set()
        watcher.join()
    finally:
        stack.down()
    peaks = watcher.mib()
    report = {
        "model": "random-weight ViT-B/32 in the layout of laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "worker_children": 1,
        "limit_factor": LIMIT_FACTOR,
        "load": work,
        "peak_mib": peaks,
        "limit_at_least_mib": {name: round(mib * LIMIT_FACTOR) for name, mib in peaks.items()},
    }
    save_results("memory", report, markdown(report))


def markdown(report: dict[str, Any]) -> str:
    load_ = report["load"]
    lines = [
        "# Peak memory of each service (`make bench-memory`)",
        "",
        f"Model: {report['model']}; one worker child; default runtime and dtype. Load: "
        f"{load_['uploaded']} photos ({PHOTOS_12MP} of 12 MP, {PHOTOS_48MP} of 48 MP, "
        f"{PER_REQUEST} a request), {load_['searches']} searches (text and image, each with "
        f"3 similar searches and 9 image fetches) at once, {load_['seconds']} s; jobs "
        f"{', '.join(load_['job_states'])}. Peak: the kernel's high-water mark (VmHWM) of "
        f"every process of the service.",
        "",
        f"| service | peak MiB | limit at least (x{report['limit_factor']}) MiB |",
        "|---|---|---|",
    ]
    for name, mib in report["peak_mib"].items():
        lines.append(f"| {name} | {mib} | {report['limit_at_least_mib'][name]} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
