"""URL ingest with the real worker: a real HTTP server on an allowed loopback address, and
every way of reaching a forbidden one refused with its reason."""

import http.server
import threading
from collections.abc import Iterator

import httpx
import pytest

from imagesearch_dev.localstack import Stack
from tests.support.bombs import MB, gzip_bomb
from tests.support.images import unique_image_bytes
from tests.support.polling import finished_job
from tests.support.stack import IMAGE_HOST


@pytest.fixture(scope="module")
def image_server() -> Iterator[str]:
    good = unique_image_bytes((200, 90, 40), fmt="JPEG")
    # past fetch.max_bytes (50 MiB) once inflated: 2 KB stacked, 60 KB in one layer
    stacked, deep = gzip_bomb(600 * MB, layers=2), gzip_bomb(60 * MB, layers=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            port = int(self.server.server_address[1])  # type: ignore[index]
            if self.path == "/good.jpg":
                self._send(200, good, "image/jpeg")
            elif self.path == "/to-loopback":
                self._redirect(f"http://127.0.0.1:{port}/good.jpg")
            elif self.path == "/to-good":
                self._redirect("/good.jpg")
            elif self.path in ("/stacked.jpg", "/deep.jpg"):
                stacked_path = self.path == "/stacked.jpg"
                body = stacked if stacked_path else deep
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Encoding", "gzip, gzip" if stacked_path else "gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif self.path == "/page.html":
                self._send(200, b"<html>not an image</html>", "text/html")
            else:
                self._send(404, b"", "text/plain")

        def _redirect(self, location: str) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((IMAGE_HOST, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://{IMAGE_HOST}:{server.server_address[1]}"
    server.shutdown()


def test_url_ingest_fetches_public_images_and_refuses_private_ones(
    full_stack: Stack, image_server: str
) -> None:
    port = image_server.rsplit(":", 1)[1]
    urls = {
        "good": f"{image_server}/good.jpg",
        "redirect_to_good": f"{image_server}/to-good",
        "loopback": f"http://127.0.0.1:{port}/good.jpg",
        "private": "http://10.0.0.1/a.jpg",
        "metadata": "http://169.254.169.254/latest/meta-data/",
        "redirect_to_loopback": f"{image_server}/to-loopback",
        "name_to_loopback": f"http://localhost:{port}/good.jpg",
        "not_an_image": f"{image_server}/page.html",
        "missing": f"{image_server}/nothing-here.jpg",
        "stacked_gzip": f"{image_server}/stacked.jpg",
        "gzip_bomb": f"{image_server}/deep.jpg",
    }
    api = httpx.Client(base_url=full_stack.settings.url("ingestapi"), timeout=30)
    response = api.post("/api/v1/images/urls", json={"urls": list(urls.values()), "tags": "web"})
    assert response.status_code == 202
    at_once = {i["url"]: i for i in response.json()["items"]}
    for name in ("loopback", "private", "metadata"):
        assert at_once[urls[name]]["status"] == "rejected"
        assert at_once[urls[name]]["http_status"] == 422
    assert "loopback" in at_once[urls["loopback"]]["reason"]
    assert "private" in at_once[urls["private"]]["reason"]
    assert "link-local" in at_once[urls["metadata"]]["reason"]

    job = finished_job(api, response.json()["job_id"])
    items = {i["url"]: i for i in job["items"]}
    assert items[urls["good"]]["state"] == "indexed"
    assert items[urls["redirect_to_good"]]["id"] == items[urls["good"]]["id"]
    refused = items[urls["redirect_to_loopback"]]
    assert refused["state"] == "failed"
    assert f"redirect to http://127.0.0.1:{port}/good.jpg" in refused["reason"]
    assert "loopback" in refused["reason"]
    assert "localhost resolves to a loopback address" in (items[urls["name_to_loopback"]]["reason"])
    assert "415" in items[urls["not_an_image"]]["reason"]
    assert "HTTP 404" in items[urls["missing"]]["reason"]
    # compression bombs: refused, or cut off at fetch.max_bytes while inflating
    assert "stacked content encodings are refused" in items[urls["stacked_gzip"]]["reason"]
    assert "larger than 52428800 bytes" in items[urls["gzip_bomb"]]["reason"]

    image = api.get(f"/api/v1/images/{items[urls['good']]['id']}").json()
    assert image["state"] == "indexed"
    assert (image["metadata"]["source"], image["metadata"]["tags"]) == ("url", ["web"])
    assert image["metadata"]["filename"] == "good.jpg"
