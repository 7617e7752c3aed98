"""`make bench-cdn`: image delivery, with wrk on the same box at the same concurrency, for a
200 KB and a 3 MB image: (a) nginx serving the file from disk, (b) a direct GET from the S3
server (a presigned URL), (c) cdnapi direct, (d) through nginx with its cache warm.
Writes tests/bench/results/cdn.{json,md} with the ratios c/b and d/a."""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from typing import Any

import httpx
import numpy as np

from imagesearch_dev.localstack import Stack
from shared.ids import content_id, original_key
from shared.storage import MinioObjectStore
from tests.bench.report import save_results
from tests.support.paths import ROOT
from tests.support.ports import free_ports
from tests.support.stack import own_stack_settings, storage_settings

SIZES = {"200 KB": 200 * 1024, "3 MB": 3 * 1024 * 1024}
STATIC_NGINX = """
worker_processes 2;
pid {run}/static.pid;
error_log {run}/static-error.log warn;
daemon off;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {run}/tmp;
    proxy_temp_path {run}/tmp;
    fastcgi_temp_path {run}/tmp;
    uwsgi_temp_path {run}/tmp;
    scgi_temp_path {run}/tmp;
    sendfile on;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""


def wrk(url: str, seconds: int, connections: int) -> dict[str, float]:
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99, out
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_s": round(rps, 1),
        "p99_ms": round(float(p99.group(1)) * scale, 2),
        "errors": int(errors.group(1)) if errors else 0,
    }


def jpeg_like(size: int, seed: int) -> bytes:
    """Incompressible bytes with a JPEG header: what a photo looks like to a server."""
    body = np.random.default_rng(seed).integers(0, 256, size - 4, dtype=np.uint8).tobytes()
    return b"\xff\xd8\xff\xe0" + body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--cdnapi-workers", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk (make bench-cdn does)", file=sys.stderr)
        return 2
    run_dir = ROOT / ".run" / "bench-cdn"
    static_port = free_ports(1)[0]
    stack = Stack(own_stack_settings(run_dir, cdnapi_workers=args.cdnapi_workers))
    static_root = run_dir / "static"
    (run_dir / "tmp").mkdir(parents=True)
    static_root.mkdir()
    conf = run_dir / "static.conf"
    conf.write_text(STATIC_NGINX.format(run=run_dir, port=static_port, root=static_root))
    static = None
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d"),
        "wrk": f"2 threads, {args.connections} connections, {args.seconds} s per run",
        "cdnapi": f"{args.cdnapi_workers} uvicorn process(es)",
        "sizes": {},
    }
    try:
        stack.up(["s3", "cdnapi", "nginx"])
        static = subprocess.Popen(["nginx", "-c", str(conf)], start_new_session=True)
        store = MinioObjectStore.from_settings(storage_settings(stack, "images"))
        store.ensure_bucket()
        for n, (label, size) in enumerate(SIZES.items()):
            data = jpeg_like(size, n)
            image_id = content_id(data)
            store.put(original_key(image_id), data, "image/jpeg")
            (static_root / f"{image_id}.jpg").write_bytes(data)
            presigned = store._client.presigned_get_object(
                "images", original_key(image_id), expires=timedelta(hours=1)
            )
            urls = {
                "a_nginx_file": f"http://127.0.0.1:{static_port}/{image_id}.jpg",
                "b_s3_direct": presigned,
                "c_cdnapi": f"{stack.settings.url('cdnapi')}/images/{image_id}",
                "d_nginx_cached": f"{stack.settings.url('nginx')}/images/{image_id}",
            }
            for url in urls.values():  # warm: the nginx cache, connections, page cache
                response = httpx.get(url, timeout=30)
                assert response.status_code == 200 and response.content == data, url
            rows: dict[str, Any] = {
                name: wrk(url, args.seconds, args.connections) for name, url in urls.items()
            }
            rows["ratio_c_over_b"] = round(
                rows["c_cdnapi"]["requests_per_s"] / rows["b_s3_direct"]["requests_per_s"], 3
            )
            rows["ratio_d_over_a"] = round(
                rows["d_nginx_cached"]["requests_per_s"] / rows["a_nginx_file"]["requests_per_s"],
                3,
            )
            report["sizes"][label] = rows
            print(label, json.dumps(rows), flush=True)
    finally:
        if static:
            static.terminate()
            static.wait()
        stack.down()
    save_results("cdn", report, markdown(report))
    return 0


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Image delivery",
        "",
        f"{report['machine']}, {report['date']}; wrk {report['wrk']} on the same box; "
        f"cdnapi: {report['cdnapi']}.",
        "",
        "| image | (a) nginx file req/s (p99) | (b) S3 direct | (c) cdnapi | "
        "(d) nginx cached | c/b | d/a |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, rows in report["sizes"].items():
        cells = [
            f"{rows[k]['requests_per_s']} ({rows[k]['p99_ms']} ms)"
            for k in ("a_nginx_file", "b_s3_direct", "c_cdnapi", "d_nginx_cached")
        ]
        lines.append(
            f"| {label} | {' | '.join(cells)} | **{rows['ratio_c_over_b']}** | "
            f"**{rows['ratio_d_over_a']}** |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
