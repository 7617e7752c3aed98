"""`make bench-hostile`: hostile inputs against a running stack (nginx in front), one at a time.

For each input: the status codes it got, each service's peak RSS growth over its RSS just
before (sampled every 50 ms; the worker counts with its children), the p50 of the text searches
a second client issues meanwhile against their p50 just before (an input handled in a moment
is sent again, 10 a second, for 3 s), any 5xx among those searches,
and whether any process was replaced. Targets: RSS growth <= 256 MB per service, concurrent
search p50 <= 2x its baseline, no 5xx, no restart. Writes tests/bench/results/hostile.{json,md}.
"""

import http.server
import json
import multiprocessing
import os
import platform
import random
import statistics
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from imagesearch_dev.localstack import Stack
from shared.ids import content_id, original_key
from shared.schemas import ImageState
from shared.state import RedisJobStore
from shared.storage import MinioObjectStore
from tests.bench import hostile_review as review
from tests.bench.procs import cpu_s_of_tree, pids_of_tree, rss_of_tree
from tests.bench.report import save_results
from tests.support.bombs import MB, gzip_bomb, many_entry_zip, png
from tests.support.images import image_bytes, noise_png
from tests.support.paths import ROOT
from tests.support.polling import eventually, finished_job
from tests.support.ports import free_ports
from tests.support.stack import IMAGE_HOST, own_stack_settings, redis_settings, storage_settings

SERVICES = ["nginx", "ingestapi", "searchapi", "cdnapi", "worker"]
TARGET_RSS_MB = 256
MIN_WINDOW_S = 3.0
BASELINE_SEARCHES = 100
REPEAT_PER_S = 10  # rate_limit.search's default, 600/minute
WORDS = [
    "red",
    "green",
    "blue",
    "dog",
    "cat",
    "car",
    "tree",
    "sea",
    "sky",
    "house",
    "night",
    "sun",
    "snow",
    "road",
    "face",
    "boat",
]


# ---- measuring
class Sampler(threading.Thread):
    def __init__(self, pids: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.start_rss = {name: rss_of_tree(pid) for name, pid in pids.items()}
        self.peak = dict(self.start_rss)
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.05):
            for name, pid in self.pids.items():
                self.peak[name] = max(self.peak[name], rss_of_tree(pid))

    def growth_mb(self) -> dict[str, float]:
        return {n: round((self.peak[n] - self.start_rss[n]) / MB, 1) for n in self.pids}


def _search_loop(base_url: str, stop: Any, done: Any, out: Any) -> None:
    """Text searches one after another, through nginx, with fresh words (no cached vector);
    in a process of its own, so the attacking client's work does not slow its timing."""
    client = httpx.Client(base_url=base_url, timeout=60)
    rng = random.Random(time.time_ns())
    results: list[tuple[float, int]] = []
    while not stop.is_set():
        text = " ".join(rng.choices(WORDS, k=3)) + f" {rng.randrange(10**6)}"
        started = time.perf_counter()
        try:
            status = client.get("/api/v1/image/search", params={"text": text}).status_code
        except httpx.HTTPError:
            status = 599
        results.append(((time.perf_counter() - started) * 1000, status))
        done.value += 1
    out.put(results)


class Searcher:
    def __init__(self, base_url: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._done = context.Value("i", 0)
        self._out = context.Queue()
        self._process = context.Process(
            target=_search_loop, args=(base_url, self._stop, self._done, self._out), daemon=True
        )
        self.latencies: list[float] = []
        self.statuses: list[int] = []

    def start(self) -> None:
        self._process.start()

    def wait_searching(self, searches: int = 3, timeout_s: float = 60) -> None:
        """Until the process is up and has answered a few searches."""
        eventually(lambda: self._done.value >= searches, timeout_s, "the searching client")

    def stop(self) -> None:
        self._stop.set()
        results = self._out.get(timeout=120)
        self._process.join(30)
        self.latencies = [latency for latency, _ in results]
        self.statuses = [status for _, status in results]

    def p50(self) -> float:
        return round(statistics.median(self.latencies), 1) if self.latencies else float("nan")


def search_baseline(base_url: str, searches: int = BASELINE_SEARCHES) -> float:
    """The p50 of this many searches, just before an input is sent."""
    searcher = Searcher(base_url)
    searcher.start()
    searcher.wait_searching(searches)
    searcher.stop()
    return searcher.p50()


def stack_pids(stack: Stack) -> dict[str, int]:
    pids = {name: stack.table.running_pid(name) for name in SERVICES}
    missing = [name for name, pid in pids.items() if pid is None]
    if missing:
        raise RuntimeError(f"not running: {missing}")
    return {name: pid for name, pid in pids.items() if pid is not None}


def measure(
    stack: Stack, name: str, attack: Callable[[], list[str]], repeat: bool
) -> dict[str, Any]:
    """``repeat``: an attack over in a moment runs again until MIN_WINDOW_S has passed, so the
    searches meanwhile are enough to measure and the load is sustained, at most REPEAT_PER_S
    times a second (what the default rate limits let one client send)."""
    base_url = stack.settings.url("nginx")
    baseline = search_baseline(base_url)
    pids = stack_pids(stack)
    trees = {n: pids_of_tree(p) for n, p in pids.items()}
    cpu_before = {n: cpu_s_of_tree(p) for n, p in pids.items()}
    sampler, searcher = Sampler(pids), Searcher(base_url)
    sampler.start()
    searcher.start()
    searcher.wait_searching()  # searching before the attack starts
    started = time.perf_counter()
    runs = 0
    try:
        statuses = attack()
        runs += 1
        while repeat and time.perf_counter() - started < MIN_WINDOW_S:
            time.sleep(max(0.0, started + runs / REPEAT_PER_S - time.perf_counter()))  # pacing
            again = attack()
            runs += 1
            if again != statuses:
                statuses += [f"then {'; '.join(again)}"]
    finally:
        took = time.perf_counter() - started
        searcher.stop()
        sampler.stopped.set()
        sampler.join()
    after = stack_pids(stack)
    cpu = {n: round(cpu_s_of_tree(after[n]) - cpu_before[n], 1) for n in pids}
    replaced = [n for n in pids if after.get(n) != pids[n]]
    # a worker child replaced by Celery (one died) shows as a child pid that went away early
    lost_children = sorted(trees["worker"] - pids_of_tree(after["worker"])) if after else []
    row = {
        "input": name,
        "statuses": statuses,
        "took_s": round(took, 1),
        "runs": runs,
        "cpu_s": cpu,
        "rss_growth_mb": sampler.growth_mb(),
        "search_p50_ms": searcher.p50(),
        "search_baseline_p50_ms": baseline,
        "search_p50_ratio": round(searcher.p50() / baseline, 2),
        "searches": len(searcher.statuses),
        "search_5xx": sum(s >= 500 for s in searcher.statuses),
        "restarted": replaced + ([f"worker children {lost_children}"] if lost_children else []),
    }
    print(json.dumps(row), flush=True)
    return row


# ---- hostile inputs
class BombSite:
    """A web host on IMAGE_HOST that answers with compression bombs."""

    def __init__(self, routes: dict[str, tuple[bytes, str]]) -> None:
        routes_ = routes

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body, encoding = routes_.get(self.path, (b"", ""))
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "image/jpeg")
                if encoding:
                    self.send_header("Content-Encoding", encoding)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer((IMAGE_HOST, free_ports(1)[0]), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://{IMAGE_HOST}:{self.server.server_address[1]}{path}"


def multipart(parts: Iterator[tuple[str, bytes]], boundary: str) -> Iterator[bytes]:
    for filename, data in parts:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        yield data
        yield b"\r\n"
    yield f"--{boundary}--\r\n".encode()


def post_status(client: httpx.Client, path: str, **kw: Any) -> str:
    try:
        return str(client.post(path, **kw).status_code)
    except httpx.HTTPError as exc:  # nginx answered and closed before the body was sent
        return f"closed ({type(exc).__name__})"


# ---- the run
def main() -> int:
    # run the inputs whose name has any of these; HOSTILE_BEFORE: a results file of the same
    # inputs against an earlier commit, shown above each row
    only = sys.argv[1:] or [""]
    run_dir = ROOT / ".run" / "bench-hostile"
    allow = f'["{IMAGE_HOST}/32"]'
    stack = Stack(
        own_stack_settings(run_dir),
        extra_env={
            "INGESTAPI__FETCH__ALLOW_NETWORKS": allow,
            "INGESTWORKER__FETCH__ALLOW_NETWORKS": allow,
            # one client sends everything here, as fast as it can: limits are not what is
            # measured (they would answer 429 long before the inputs arrive)
            "SEARCHAPI__RATE_LIMIT__ENABLED": "false",
            "INGESTAPI__RATE_LIMIT__ENABLED": "false",
            # 400 watchers of one job from the one client: what a shared poll costs is measured
            "INGESTAPI__EVENTS__MAX_PER_CLIENT": "400",
            "INGESTAPI__EVENTS__MAX_STREAMS": "400",
            **json.loads(os.environ.get("HOSTILE_EXTRA_ENV", "{}")),
        },
    )
    rows: list[dict[str, Any]] = []
    seed = time.time_ns() % 10**6
    try:
        stack.up()
        site = httpx.Client(base_url=stack.settings.url("nginx"), timeout=300)
        direct = httpx.Client(base_url=stack.settings.url("ingestapi"), timeout=300)
        # something to find: 30 small images indexed
        files = [("files", (f"{i}.png", image_bytes((i * 8, seed % 250, 40)))) for i in range(30)]
        upload = site.post("/api/v1/images", files=files)
        finished_job(site, upload.json()["job_id"], timeout_s=300)

        store = MinioObjectStore.from_settings(storage_settings(stack, "images"))
        bombs = BombSite(
            {
                "/stacked.jpg": (gzip_bomb(600 * MB, layers=2), "gzip, gzip"),
                "/deep.jpg": (gzip_bomb(600 * MB, layers=1), "gzip"),
            }
        )
        zip_bomb = many_entry_zip(1_000_000)

        def query(pixels: tuple[int, int]) -> Callable[[], list[str]]:
            data = png(*pixels, seed)  # made before the measuring starts

            def attack() -> list[str]:
                files = {"file": ("bomb.png", data, "image/png")}
                return [post_status(site, "/api/v1/image/search", files=files)]

            return attack

        def upload_and_index(pixels: tuple[int, int]) -> Callable[[], list[str]]:
            data = png(*pixels, seed + 1)

            def attack() -> list[str]:
                response = site.post("/api/v1/images", files=[("files", ("bomb.png", data))])
                out = [str(response.status_code)]
                if response.status_code == 202:  # the worker decodes it too
                    job = finished_job(site, response.json()["job_id"], timeout_s=300)
                    out.append(f"job {job['state']}")
                return out

            return attack

        # originals written straight to storage (no worker copies): 8 at once want theirs
        missing_copies = []
        for i in range(8):
            data = png(4000, 4000, seed + 10 + i)
            missing_copies.append(content_id(data))
            store.put(original_key(missing_copies[-1]), data, "image/png")

        def thumbnails_on_demand() -> list[str]:
            ids = missing_copies
            results: list[str] = []

            def fetch(image_id: str) -> None:
                results.append(str(site.get(f"/images/{image_id}/thumbnail").status_code))

            threads = [threading.Thread(target=fetch, args=(i,)) for i in ids]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return sorted(results)

        def zip_directory() -> list[str]:
            response = site.post("/api/v1/images", files=[("files", ("many.zip", zip_bomb))])
            items = response.json().get("items") or [{}]
            reason = items[0].get("reason") or response.json().get("detail", "")
            return [str(response.status_code), reason[:60]]

        def huge_json() -> list[str]:
            size = 512 * MB

            def body() -> Iterator[bytes]:
                yield b'{"urls": ["'
                for _ in range(size // MB):
                    yield b"a" * MB
                yield b'"]}'

            headers = {"Content-Type": "application/json"}
            declared = {**headers, "Content-Length": str(size + 14)}
            path = "/api/v1/images/urls"
            return [
                "nginx " + post_status(site, path, content=body(), headers=declared),
                "app, declared " + post_status(direct, path, content=body(), headers=declared),
                "app, chunked " + post_status(direct, path, content=body(), headers=headers),
            ]

        def stacked_gzip() -> list[str]:
            urls = [bombs.url("/stacked.jpg"), bombs.url("/deep.jpg")]
            response = site.post("/api/v1/images/urls", json={"urls": urls})
            job = finished_job(site, response.json()["job_id"], timeout_s=300)
            reasons = [str(item.get("reason", ""))[:70] for item in job["items"]]
            return [str(response.status_code), f"job {job['state']}", *reasons]

        rng = np.random.default_rng(seed)
        chunk = b"\xff\xd8\xff\xe0" + rng.integers(0, 256, MB - 4, dtype=np.uint8).tobytes()

        def many_parts() -> list[str]:
            boundary = "hostile-boundary"
            parts = ((f"{i}.jpg", chunk[:-8] + struct.pack("<Q", i)) for i in range(500))
            response = site.post(
                "/api/v1/images",
                content=multipart(parts, boundary),
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
            statuses = {item["http_status"] for item in response.json()["items"]}
            return [str(response.status_code), f"items {sorted(statuses)}"]

        # ---- the second review's findings
        jobs = RedisJobStore.from_url(redis_settings(stack).url)
        waiting_job, waiting_image = f"bench-{seed}", f"{seed:064x}"
        jobs.create_job(waiting_job, [(waiting_image, "waiting.png")])
        jobs.set_state(waiting_image, ImageState.queued)  # no task: it stays queued
        ingestapi_pid = stack.table.running_pid("ingestapi") or 0
        big_png = noise_png(3000, seed)

        def watchers() -> list[str]:
            host, port = stack.settings.host, stack.settings.ports.nginx
            return review.many_watchers(site, host, port, waiting_job, ingestapi_pid, 400)

        def field_flood() -> list[str]:
            boundary = "flood-boundary"
            body = review.field_flood(8100, 64 * 1024 - 100, boundary)
            headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
            try:
                response = site.post("/api/v1/images", content=body, headers=headers)
            except httpx.HTTPError as exc:
                return [f"closed ({type(exc).__name__})"]
            return [str(response.status_code), str(response.json().get("detail", ""))[:70]]

        def delete_race() -> list[str]:
            return review.delete_during_fill(site, stack.settings.url("nginx"), big_png, 16)

        def refresh_listener() -> list[str]:
            listener = stack.settings.url("nginx_refresh")
            image = f"/images/{'e' * 64}"
            rebound = httpx.get(listener + image, headers={"Host": "attacker.example"})
            other = httpx.get(listener + "/api/v1/stats")
            return [f"another Host {rebound.status_code}", f"another path {other.status_code}"]

        def page_headers() -> list[str]:
            headers = site.get("/").headers
            wanted = ["content-security-policy", "x-frame-options", "x-content-type-options",
                      "referrer-policy"]  # fmt: skip
            return [f"{name}: {'yes' if name in headers else 'no'}" for name in wanted]

        scenarios: list[tuple[str, Callable[[], list[str]], bool]] = [
            ("query image: 16 MP PNG (at search.max_pixels)", query((4000, 4000)), True),
            ("query image: 100 MP PNG (the review's bomb)", query((10000, 10000)), True),
            ("upload: 32 MP PNG (at ingest.max_decoded_pixels), then indexed",
             upload_and_index((6400, 5000)), False),
            ("upload: 100 MP PNG (over max_decoded_pixels)", upload_and_index((10000, 10000)),
             True),
            ("8 missing thumbnails of 16 MP PNGs at once (cdnapi)", thumbnails_on_demand, False),
            ("zip with a million directory entries", zip_directory, True),
            ("512 MiB JSON body to /images/urls", huge_json, True),
            ("URL ingest: gzip,gzip and gzip to 600 MB", stacked_gzip, False),
            ("500 parts of 1 MB in one upload", many_parts, False),
            ("N1: a 27 MB PNG's first GET and its delete 0-80 ms apart, 16 rounds", delete_race,
             False),
            ("N3: upload of 8,100 text fields of 64 KiB (505 MiB)", field_flood, False),
            ("N4: 400 event streams of one queued job", watchers, False),
            ("N5: cache-refresh listener, another Host or path", refresh_listener, False),
            ("N7: the page's security headers", page_headers, False),
        ]  # fmt: skip
        for name, attack, repeat in scenarios:
            if not any(part in name for part in only):
                continue
            rows.append(measure(stack, name, attack, repeat))
    finally:
        stack.down()
    before = os.environ.get("HOSTILE_BEFORE")
    if before:
        earlier = {row["input"]: row for row in json.loads(Path(before).read_text())["rows"]}
        rows = [
            row
            for after in rows
            for row in (
                [{**earlier[after["input"]], "input": f"before: {after['input']}"}]
                if after["input"] in earlier
                else []
            )
            + [after]
        ]
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d"),
        "targets": f"RSS growth <= {TARGET_RSS_MB} MB per service, search p50 <= 2x, no 5xx, "
        "no restart",
        "rows": rows,
    }
    save_results("hostile", report, markdown(report))
    return 0


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Hostile inputs against the running stack",
        "",
        f"{report['machine']}, {report['date']}. Targets: {report['targets']}. RSS growth is "
        "the peak over the RSS just before (worker: master and children together).",
        "",
        "| input | runs, s | statuses | RSS growth MB (nginx / ingestapi / searchapi / cdnapi "
        "/ worker) | CPU s (same order) | search p50 ms (before), n | ratio | search 5xx "
        "| restarts |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        growth = " / ".join(str(row["rss_growth_mb"][n]) for n in SERVICES)
        cpu = " / ".join(str(row["cpu_s"][n]) for n in SERVICES)
        lines.append(
            f"| {row['input']} | {row['runs']}, {row['took_s']} | {'; '.join(row['statuses'])} "
            f"| {growth} | {cpu} | "
            f"{row['search_p50_ms']} ({row['search_baseline_p50_ms']}), {row['searches']} | "
            f"{row['search_p50_ratio']} | {row['search_5xx']} | "
            f"{', '.join(row['restarted']) or 'none'} |"
        )
    lines += [
        "",
        "Rows named N1-N7 are the second security review's findings; a `before:` row is the "
        "same input against the commit before the fixes (HOSTILE_BEFORE). N2 (the image gate's "
        "configuration), N6 (a rate limit on every route: this bench runs without limits), N8 "
        "and I1 (docs, metrics, logs, keys, trace flags) cost nothing to send and are shown by "
        "tests instead: tests/integration/test_nginx_gate.py, tests/e2e/test_security.py.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
