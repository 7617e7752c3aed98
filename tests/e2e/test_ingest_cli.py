"""The bulk `ingest` command against the running stack, through nginx."""

import io
import os
import subprocess
import sys
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from imagesearch_dev.localstack import Stack
from tests.support.images import unique_seed
from tests.support.paths import ROOT
from tests.support.polling import finished_job


def make_folder(root: Path, salt: int) -> dict[str, Path]:
    rng = np.random.default_rng(salt)
    (root / "trip" / ".cache").mkdir(parents=True)
    paths = {}
    for i in range(6):
        pixels = rng.integers(0, 255, (60, 80, 3), dtype=np.uint8)
        path = root / ("trip" if i % 2 else ".") / f"photo{i}.jpg"
        Image.fromarray(pixels).save(path, format="JPEG")
        paths[f"photo{i}"] = path
    copy = root / "trip" / "copy-of-photo0.jpg"
    copy.write_bytes(paths["photo0"].read_bytes())
    broken = root / "broken.jpg"
    broken.write_bytes(paths["photo1"].read_bytes()[:300])
    (root / "notes.txt").write_text("not an image")
    (root / "trip" / ".cache" / "hidden.jpg").write_bytes(paths["photo2"].read_bytes())
    return {**paths, "broken": broken}


def ingest(stack: Stack, folder: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "ingestclient.cli", str(folder), "--quiet", "--concurrency", "3"]
    env = {**os.environ, "IMAGESEARCH_URL": stack.settings.url("nginx")}
    return subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_cli_uploads_a_folder_once_and_reports_what_it_could_not(
    full_stack: Stack, tmp_path: Path
) -> None:
    make_folder(tmp_path, salt=unique_seed())
    first = ingest(full_stack, tmp_path)
    assert first.returncode == 1, first.stderr  # the broken file was rejected
    out = first.stdout
    assert "found 8 image files (1 other files skipped)" in out
    assert "already stored 0, same bytes as another file here 1" in out
    assert "accepted 6, duplicate 0, rejected 1, failed to send 0" in out
    assert f"rejected {tmp_path / 'broken.jpg'}: 422" in out

    second = ingest(full_stack, tmp_path)
    assert "already stored 6, same bytes as another file here 1" in second.stdout
    assert "accepted 0, duplicate 0, rejected 1" in second.stdout  # only the bad file is sent


def test_cli_exits_2_when_the_api_does_not_answer(tmp_path: Path) -> None:
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    argv = [sys.executable, "-m", "ingestclient.cli", str(tmp_path), "--quiet", "--retries", "0"]
    env = {**os.environ, "IMAGESEARCH_URL": "http://127.0.0.1:9"}
    proc = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "did not answer" in proc.stderr


def test_a_job_streams_its_progress_as_server_sent_events(full_stack: Stack) -> None:
    page = httpx.Client(base_url=full_stack.settings.url("nginx"), timeout=60)
    rng = np.random.default_rng(unique_seed())
    files = [("files", (f"{i}.jpg", _jpeg(rng), "image/jpeg")) for i in range(4)]
    job_id = page.post("/api/v1/images", files=files).json()["job_id"]
    events: list[str] = []
    with page.stream("GET", f"/api/v1/jobs/{job_id}/events") as stream:
        events = [
            line.split(": ", 1)[1] for line in stream.iter_lines() if line.startswith("event:")
        ]
    assert events[0] == "progress" and events[-1] == "done"
    assert finished_job(page, job_id)["state"] == "indexed"


def _jpeg(rng: np.random.Generator) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(buf, format="JPEG")
    return buf.getvalue()
