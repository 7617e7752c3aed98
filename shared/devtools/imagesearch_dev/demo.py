"""`make demo`: sample images in through the public API, indexed, then found by a text query."""

import argparse
import random
import sys
import time
from pathlib import Path

import httpx

from imagesearch_dev.localstack.settings import StackSettings
from imagesearch_dev.training.scenes import Scene, render

# scenes the offline model knows how to describe (shared/models/tiny-clip/README.md)
SAMPLES = [
    Scene("red", "circle", "large", 1, "centre", "white"),
    Scene("red", "square", "large", 1, "centre", "white"),
    Scene("blue", "circle", "large", 1, "centre", "white"),
    Scene("yellow", "star", "small", 3, "centre", "black"),
    Scene("green", "triangle", "small", 1, "left", "grey"),
    Scene("purple", "cross", "large", 2, "centre", "white"),
    Scene("orange", "circle", "small", 1, "top", "black"),
    Scene("pink", "star", "large", 1, "right", "grey"),
]


def write_samples(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    paths = []
    for scene in SAMPLES:
        path = folder / (scene.caption.replace(" ", "-") + ".jpg")
        render(scene, 320, rng).save(path, quality=90)
        paths.append(path)
    return paths


def ingest(client: httpx.Client, paths: list[Path]) -> str:
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
    response = client.post("/api/v1/images", files=files)
    response.raise_for_status()
    body = response.json()
    for item in body["items"]:
        outcome = item.get("id") or item.get("reason")
        print(f"  {item['status']:<9} {item['filename']:<62} {str(outcome)[:16]}")
    return str(body["job_id"])


def wait_indexed(client: httpx.Client, job_id: str, timeout_s: float) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["state"] in ("indexed", "failed") or time.monotonic() > deadline:
            return dict(job)
        time.sleep(0.5)


def main() -> int:
    stack = StackSettings()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=stack.url("nginx"), help="the stack's page URL")
    parser.add_argument("--images", type=Path, help="a folder of images (default: generated)")
    parser.add_argument("--query", default="a large red circle in the centre on a white background")
    parser.add_argument("--limit", type=int, default=5)
    args = parser.parse_args()

    if args.images:
        paths = sorted(p for p in args.images.iterdir() if p.is_file())
    else:
        paths = write_samples(stack.run_dir / "samples")
    with httpx.Client(base_url=args.url, timeout=60) as client:
        print(f"ingesting {len(paths)} images through {args.url}/api/v1/images")
        job_id = ingest(client, paths)
        job = wait_indexed(client, job_id, timeout_s=180)
        print(f"job {job_id}: {job['state']} {job['counts']}")
        if job["state"] != "indexed":
            return 1
        result = client.get(
            "/api/v1/image/search", params={"text": args.query, "limit": args.limit}
        )
        result.raise_for_status()
        print(f"\nsearch {args.query!r} ({result.json()['took_ms']} ms):")
        for rank, item in enumerate(result.json()["items"], 1):
            print(
                f"  {rank}. {item['score']:.4f}  {item['filename']}\n     {args.url}{item['url']}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
