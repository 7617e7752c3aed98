"""nginx's image gate and its start-up script, with the shipped files: a real nginx renders
the templates with each way of writing PROTECT_READS, and a real sh runs the frontend image's
start-up script (docker/nginx/imagesearch-env.envsh)."""

import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from imagesearch_dev.localstack import Stack
from shared.web.signing import UrlSigner, link_secret
from tests.support.paths import ROOT
from tests.support.polling import eventually
from tests.support.stack import own_stack_settings

ENVSH = ROOT / "docker" / "nginx" / "imagesearch-env.envsh"
IMAGE_ID = "ab" * 32
KEY = 'sig-"$uri; }-7c1e'  # characters that are nginx syntax


class Upstream:
    """cdnapi's stand-in: an image for any path, and a /readyz saying whether reads are
    protected."""

    def __init__(self, port: int, reads_protected: bool = False) -> None:
        self.reads_protected = reads_protected
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/readyz":
                    body = json.dumps(
                        {"status": "ready", "reads_protected": upstream.reads_protected},
                        separators=(",", ":"),
                    ).encode()
                else:
                    body = b"\x89PNG image bytes"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def stack() -> Stack:
    """Only its settings and its nginx config are used: ports, a run folder."""
    return Stack(own_stack_settings(ROOT / ".run" / "test-nginx-gate"))


@pytest.fixture(scope="module")
def upstream(stack: Stack) -> Iterator[Upstream]:
    server = Upstream(stack.settings.ports.cdnapi)
    yield server
    server.close()


def nginx_serving(stack: Stack, protect_reads: str) -> subprocess.Popen[bytes]:
    conf = stack.render_nginx(
        NGINX_PROTECT_READS=protect_reads, NGINX_URL_LINK_SECRET=link_secret(KEY)
    )
    (stack.run_dir / "logs").mkdir(parents=True, exist_ok=True)
    nginx = subprocess.Popen(
        ["nginx", "-c", str(conf), "-e", str(stack.run_dir / "logs" / "nginx-error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def answers() -> bool:
        try:
            return httpx.get(stack.settings.url("nginx") + "/healthz").status_code == 200
        except httpx.HTTPError:
            assert nginx.poll() is None, nginx.stderr.read() if nginx.stderr else ""
            return False

    try:
        eventually(answers, 20, "nginx answering")
    except BaseException:
        nginx.terminate()  # never left running when it did not come up
        nginx.wait(20)
        raise
    return nginx


@pytest.mark.parametrize(
    ("protect_reads", "protected"),
    [("1", True), ("True", True), ("yes", True), ("on", True), ("", True), ("false", False)],
)
def test_the_gate_protects_for_anything_but_an_explicit_off(
    stack: Stack, upstream: Upstream, protect_reads: str, protected: bool
) -> None:
    nginx = nginx_serving(stack, protect_reads)
    try:
        site = httpx.Client(base_url=stack.settings.url("nginx"))
        path = f"/images/{IMAGE_ID}"
        signed = site.get(UrlSigner(KEY, 3600).sign(path))
        assert signed.status_code == 200  # a signature made with the key nginx never saw
        # after a signed fill, unsigned requests (GET and HEAD) get the cache only when open
        for method in ("GET", "HEAD"):
            unsigned = site.request(method, path)
            assert unsigned.status_code == (401 if protected else 200), (method, protect_reads)
        forged = site.get(UrlSigner("another-key", 3600).sign(path))
        assert forged.status_code == (401 if protected else 200)
    finally:
        nginx.terminate()
        nginx.wait(20)


def envsh(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = f'. "{ENVSH}"; echo "$NGINX_PROTECT_READS $NGINX_URL_LINK_SECRET"'
    return subprocess.run(
        ["sh", "-c", script], env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("value", "gate"),
    [
        ("1", "on"),
        ("True", "on"),
        ("yes", "on"),
        ("on", "on"),
        ("false", "off"),
        ("0", "off"),
        ("NO", "off"),
        ("", None),
        ("maybe", None),
    ],
)
def test_the_start_up_script_reads_protect_reads_as_the_apis_do(
    value: str, gate: str | None
) -> None:
    run = envsh({"PROTECT_READS": value, "URL_SIGNING_KEY": KEY})
    if gate is None:
        assert run.returncode == 1
        assert "not a boolean" in run.stderr
        return
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [gate, link_secret(KEY)]


def test_the_start_up_script_refuses_protected_reads_without_a_key() -> None:
    run = envsh({"PROTECT_READS": "true"})
    assert run.returncode == 1 and "URL_SIGNING_KEY" in run.stderr


def test_nginx_refuses_to_start_when_the_apis_disagree(stack: Stack, upstream: Upstream) -> None:
    check = {
        "IMAGESEARCH_READS_CHECK_URL": f"{stack.settings.url('cdnapi')}/readyz",
        "IMAGESEARCH_READS_CHECK_TRIES": "1",
        "URL_SIGNING_KEY": KEY,
    }
    upstream.reads_protected = False
    refused = envsh({**check, "PROTECT_READS": "true"})
    assert refused.returncode == 1
    assert "nginx would protect reads: on, the APIs: off" in refused.stderr
    assert envsh({**check, "PROTECT_READS": "false"}).returncode == 0
    upstream.reads_protected = True
    assert envsh({**check, "PROTECT_READS": "yes"}).returncode == 0
    unreachable = {**check, "IMAGESEARCH_READS_CHECK_URL": "http://127.0.0.1:9/readyz"}
    assert envsh({**unreachable, "PROTECT_READS": "yes"}).returncode == 1


def test_the_signing_key_never_appears_in_nginx_config(stack: Stack) -> None:
    conf = stack.render_nginx(NGINX_URL_LINK_SECRET=link_secret(KEY))
    for written in Path(conf).parent.glob("*.conf"):
        assert "sig-" not in written.read_text(), written
