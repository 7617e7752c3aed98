"""A webhook receiver on loopback (tests.support.stack.HOOK_HOST), as a user would write one:
it verifies each delivery's signature, processes an event once (by its id) and can be told,
per path, to answer 500s, to hang past the deliverer's timeout, or to answer 200."""

import http.server
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.support.stack import HOOK_HOST

HANG = "hang"  # answer 200 after the deliverer has given up waiting (its timeout_s)
HANG_S = 3.5


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    # the event ids each path has processed: a delivery of one already processed is answered
    # 200 and not processed again
    processed: dict[str, list[str]] = field(default_factory=dict)
    plans: dict[str, deque[int | str]] = field(default_factory=dict)
    otherwise: dict[str, int | str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def plan(self, path: str, *answers: int | str, then: int | str = 200) -> str:
        """The answers to this path's next requests in order, then ``then``: its URL."""
        with self.lock:
            self.plans[path] = deque(answers)
            self.otherwise[path] = then
        return self.url + path

    def to(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def answer(self, request: Received) -> int | str:
        with self.lock:
            self.received.append(request)
            plan = self.plans.get(request.path)
            action = plan.popleft() if plan else self.otherwise.get(request.path, 200)
            if action == HANG or action == 200:
                # processed (a hang processes, and its answer comes too late to count)
                done = self.processed.setdefault(request.path, [])
                if request.event["id"] not in done:
                    done.append(request.event["id"])
            return action


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver: Receiver

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            request = Received(self.path, dict(self.headers.items()), body, time.time())
            action = receiver.answer(request)
            if action == HANG:
                time.sleep(HANG_S)
                action = 200
            try:
                self.send_response(int(action))
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:  # the deliverer stopped waiting
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((HOOK_HOST, 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(url=f"http://{HOOK_HOST}:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
