"""The bulk client against a server that wants a key (an in-process stand-in for the API)."""

import asyncio
import hashlib
import json
from pathlib import Path

import httpx
import pytest

from ingestclient.cli import parse_args, run
from tests.support.images import image_bytes

KEY = "k-3f9a"


def keyed_server(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return httpx.Response(401, json={"error": "unauthorized", "detail": "key"})
        if request.url.path == "/api/v1/images/formats":
            formats = [{"content_type": "image/png", "suffixes": [".png"]}]
            return httpx.Response(200, json={"formats": formats})
        if request.url.path == "/api/v1/images/check":
            return httpx.Response(200, json={"known": []})
        files = request.content.count(b'name="files"')
        items = [{"status": "accepted", "id": "x", "http_status": 202}] * files
        return httpx.Response(202, json={"job_id": "j", "items": items})

    return httpx.MockTransport(handle)


@pytest.mark.parametrize("from_env", [False, True])
def test_the_key_is_sent_with_every_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, from_env: bool
) -> None:
    for n in range(3):
        (tmp_path / f"{n}.png").write_bytes(image_bytes((n, 0, 0)))
    (tmp_path / "notes.txt").write_text("skipped: not a suffix the server takes")
    argv = [str(tmp_path), "--quiet"]
    if from_env:
        monkeypatch.setenv("IMAGESEARCH_API_KEY", KEY)
    else:
        argv += ["--api-key", KEY]
    seen: list[httpx.Request] = []
    summary = asyncio.run(run(parse_args(argv), transport=keyed_server(seen)))
    assert (summary.found, summary.skipped_suffix, summary.accepted) == (3, 1, 3)
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in seen)
    checked = json.loads(next(r for r in seen if r.url.path.endswith("/check")).content)
    assert hashlib.sha256(image_bytes((0, 0, 0))).hexdigest() in checked["ids"]


def test_without_the_key_the_server_says_no_and_the_client_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IMAGESEARCH_API_KEY", raising=False)
    (tmp_path / "a.png").write_bytes(image_bytes())
    with pytest.raises(httpx.HTTPStatusError):
        asyncio.run(run(parse_args([str(tmp_path), "--quiet"]), transport=keyed_server([])))
