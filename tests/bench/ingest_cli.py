"""`make bench-ingest`: the bulk `ingest` command on generated small photos, through nginx of
a stack of its own (configured model): seconds until the command returns (every file hashed,
checked, uploaded, stored and queued), until every image is indexed, and for a second run over
the same folder (nothing to upload). Writes tests/bench/results/ingest_cli.{json,md}."""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from imagesearch_dev.localstack import ORDER, Stack
from shared.vectors import MilvusVectorIndex
from tests.bench.photos import camera_jpegs
from tests.support.paths import ROOT
from tests.support.polling import eventually
from tests.support.stack import milvus_settings, own_stack_settings

RESULTS = ROOT / "tests" / "bench" / "results"
MODEL = ROOT / "shared" / "models" / "tiny-clip"
POLL_INTERVAL_S = 0.1  # between looks at the index, until the deadline


def run_cli(stack: Stack, folder: Path, concurrency: int) -> tuple[float, str]:
    argv = [sys.executable, "-m", "ingestclient.cli", str(folder), "--quiet"]
    argv += ["--concurrency", str(concurrency)]
    env = {**os.environ, "IMAGESEARCH_URL": stack.settings.url("nginx")}
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"ingest failed: {proc.stdout}\n{proc.stderr}")
    return elapsed, proc.stdout


def bench(images: int, concurrency: int) -> dict[str, Any]:
    settings = own_stack_settings(ROOT / ".run" / "bench-stack")
    env = {"INGESTWORKER__EMBEDDING__MODEL": str(MODEL), "SEARCHAPI__EMBEDDING__MODEL": str(MODEL)}
    stack = Stack(settings, extra_env=env)
    photos = camera_jpegs(images, 0.08, quality=85, seed=5)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i, data in enumerate(photos):
            (folder / f"{i // 100:02d}").mkdir(exist_ok=True)
            (folder / f"{i // 100:02d}" / f"photo{i:04d}.jpg").write_bytes(data)
        try:
            stack.up(ORDER)
            dim = json.loads((MODEL / "config.json").read_text())["projection_dim"]
            index = MilvusVectorIndex.connect(milvus_settings(stack, "images"), str(MODEL), dim)
            started = time.perf_counter()
            returned_s, first_out = run_cli(stack, folder, concurrency)
            eventually(lambda: index.count() >= images, 600, "every image indexed", POLL_INTERVAL_S)
            indexed_s = time.perf_counter() - started
            again_s, second_out = run_cli(stack, folder, concurrency)
        finally:
            stack.down()
    megabytes = sum(len(p) for p in photos) / 1e6
    return {
        "images": images,
        "megabytes": round(megabytes, 2),
        "mean_kb": round(megabytes * 1000 / images, 1),
        "concurrency": concurrency,
        "cli_seconds": round(returned_s, 2),
        "cli_images_per_s": round(images / returned_s, 1),
        "cli_mb_per_s": round(megabytes / returned_s, 2),
        "indexed_seconds": round(indexed_s, 2),
        "indexed_images_per_s": round(images / indexed_s, 1),
        "second_run_seconds": round(again_s, 2),
        "first_summary": first_out.strip().splitlines(),
        "second_summary": second_out.strip().splitlines(),
    }


def markdown(report: dict[str, Any]) -> str:
    r = report["run"]
    return "\n".join(
        [
            "# Bulk ingest command",
            "",
            f"{report['machine']}, {report['date']}. `uv run ingest` on {r['images']} generated "
            f"JPEGs ({r['megabytes']} MB, {r['mean_kb']} KB each), {r['concurrency']} requests "
            "at once, through nginx, model tiny-clip.",
            "",
            "| | seconds | images/s | MB/s |",
            "|---|---|---|---|",
            f"| command returns (all stored and queued) | {r['cli_seconds']} | "
            f"{r['cli_images_per_s']} | {r['cli_mb_per_s']} |",
            f"| every image indexed | {r['indexed_seconds']} | {r['indexed_images_per_s']} | |",
            f"| second run (nothing to upload) | {r['second_run_seconds']} | | |",
            "",
            "First run's summary:",
            "",
            *[f"    {line}" for line in r["first_summary"]],
            "",
            "Second run's summary:",
            "",
            *[f"    {line}" for line in r["second_summary"]],
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "run": bench(args.images, args.concurrency),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ingest_cli.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "ingest_cli.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
