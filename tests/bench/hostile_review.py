"""Hostile inputs of the second review, for bench-hostile: many watchers of one job's event
stream (held open on raw sockets, all in one thread), a delete racing cache fills, and a
multipart body of thousands of text fields."""

import socket
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator

import httpx

from tests.bench.procs import rss_of_tree
from tests.support.images import another_copy, noise_png
from tests.support.polling import finished_job

MB = 1024 * 1024


def open_watchers(
    host: str, port: int, path: str, count: int
) -> tuple[list[socket.socket], Counter[int]]:
    """``count`` event streams of ``path``, each on its own connection, left open; the status
    each got."""
    opened: list[socket.socket] = []
    statuses: Counter[int] = Counter()
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n"
    for _ in range(count):
        conn = socket.create_connection((host, port), timeout=30)
        conn.sendall(request.encode())
        head = conn.recv(4096).decode("latin-1")
        statuses[int(head.split(" ", 2)[1])] += 1
        opened.append(conn)
    return opened, statuses


def p50_ms(client: httpx.Client, path: str, requests: int = 100) -> float:
    took = []
    for _ in range(requests):
        started = time.perf_counter()
        assert client.get(path).status_code == 200
        took.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(took), 1)


def many_watchers(
    client: httpx.Client, host: str, port: int, job_id: str, ingestapi_pid: int, watchers: int
) -> list[str]:
    """Job-status p50 with no watchers and with ``watchers`` streams of the job open, twice
    over; ingestapi's RSS before, with them and after each round (memory that returns to the
    allocator is reused by the second round: the RSS stops growing); what one more stream
    got."""
    path = f"/api/v1/jobs/{job_id}"
    alone = p50_ms(client, path)
    rss = [rss_of_tree(ingestapi_pid)]
    watched: list[float] = []
    statuses: Counter[int] = Counter()
    extra_status: Counter[int] = Counter()
    for _ in range(2):
        opened, statuses = open_watchers(host, port, f"{path}/events", watchers)
        try:
            time.sleep(2)  # a few polls' worth of the streams being open (the load is the point)
            watched.append(p50_ms(client, path))
            rss.append(rss_of_tree(ingestapi_pid))
            extra, extra_status = open_watchers(host, port, f"{path}/events", 1)
            for conn in extra:
                conn.close()
        finally:
            for conn in opened:
                conn.close()
        time.sleep(2)  # closed streams are noticed at the next poll
        p50_ms(client, path, 20)
        rss.append(rss_of_tree(ingestapi_pid))
    worst = max(watched)
    return [
        f"{watchers} streams: {dict(statuses)}; one more: {dict(extra_status)}",
        f"job status p50 {' / '.join(map(str, watched))} ms (no watchers {alone} ms), worst "
        f"ratio {round(worst / alone, 2)}",
        "ingestapi RSS MB "
        + " / ".join(f"{r / MB:.0f}" for r in rss)
        + " (before; with them, after: twice)",
    ]


def delete_during_fill(client: httpx.Client, base_url: str, png: bytes, rounds: int) -> list[str]:
    """Each round: upload a copy, wait for it to be indexed, then race the first GET of it
    (nginx fills its cache from cdnapi) against its delete: the GET 0-80 ms before the delete
    is sent, or 0-80 ms after (a delete takes a while to reach storage and the cache). Once
    both ended, the image is asked for again."""
    after: Counter[str] = Counter()
    for n in range(rounds):
        upload = client.post("/api/v1/images", files=[("files", ("big.png", another_copy(png)))])
        image_id = upload.json()["items"][0]["id"]
        finished_job(client, upload.json()["job_id"])
        offset_s = 0.08 * (n % 8) / 7 * (1 if n % 2 else -1)
        get = threading.Thread(target=_read_through, args=(base_url, f"/images/{image_id}"))
        delete = threading.Thread(target=client.delete, args=(f"/api/v1/images/{image_id}",))
        first, second = (get, delete) if offset_s <= 0 else (delete, get)
        first.start()
        time.sleep(abs(offset_s))
        second.start()
        first.join(120)
        second.join(120)
        again = client.get(f"/images/{image_id}")
        after[f"{again.status_code} {again.headers.get('x-cache-status', '')}".strip()] += 1
    return [f"GET after the delete: {dict(after)}"]


def _read_through(base_url: str, path: str) -> None:
    with httpx.Client(base_url=base_url, timeout=120) as reader:
        try:
            with reader.stream("GET", path) as response:
                for _ in response.iter_bytes():
                    pass
        except httpx.HTTPError:
            pass  # cut short: what nginx does with a fill of a deleted image


def field_flood(fields: int, field_bytes: int, boundary: str) -> Iterator[bytes]:
    """A multipart body of one small image, then ``fields`` text fields."""
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    yield noise_png(8, fields) + b"\r\n"
    value = b"t" * field_bytes
    for _ in range(fields):
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="tags"\r\n\r\n'.encode()
        yield value + b"\r\n"
    yield f"--{boundary}--\r\n".encode()
