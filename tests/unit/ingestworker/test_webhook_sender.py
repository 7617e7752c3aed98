"""A delivery is posted only where URL ingest may fetch (shared.netguard, checked at every
attempt: a name may come to resolve to an internal address), to the address checked, with no
redirect followed; what came back is said in a few words."""

import ipaddress

import httpx
import pytest

from ingestworker.adapters.webhook_sender import WebhookSender
from shared.webhooks.settings import WebhookSettings

PUBLIC = ipaddress.ip_address("93.184.216.34")


def sender(answer: httpx.Response | Exception, seen: list[httpx.Request]) -> WebhookSender:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return WebhookSender(WebhookSettings(timeout_s=2), transport=httpx.MockTransport(handle))


@pytest.fixture
def public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shared.netguard.resolve", lambda host, port: [PUBLIC])


def test_a_name_that_resolves_to_loopback_is_refused_without_a_request() -> None:
    seen: list[httpx.Request] = []
    result = sender(httpx.Response(200), seen).post("http://localhost:8080/in", b"{}", {})
    assert not result.ok and result.error == "refused: localhost resolves to a loopback address"
    assert seen == []


@pytest.mark.usefixtures("public_dns")
def test_the_post_goes_to_the_address_checked_with_the_name_as_host() -> None:
    seen: list[httpx.Request] = []
    result = sender(httpx.Response(204), seen).post(
        "https://hooks.example.com/in?x=1", b'{"id":"evt"}', {"X-ImageSearch-Event-Id": "evt"}
    )
    assert result.ok and result.http_status == 204
    [request] = seen
    assert request.url.host == str(PUBLIC) and request.headers["Host"] == "hooks.example.com"
    assert request.url.query == b"x=1" and request.content == b'{"id":"evt"}'
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-ImageSearch-Event-Id"] == "evt"


@pytest.mark.usefixtures("public_dns")
@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(500), "HTTP 500"),
        (httpx.Response(410), "HTTP 410"),
        (
            httpx.Response(302, headers={"Location": "http://127.0.0.1/"}),
            "redirects are not followed",
        ),
        (httpx.ReadTimeout("slow"), "no answer within 2 s"),
        (httpx.ConnectError("refused"), "could not connect: ConnectError"),
    ],
)
def test_what_went_wrong_is_said_in_a_few_words(
    answer: httpx.Response | Exception, error: str
) -> None:
    result = sender(answer, []).post("https://hooks.example.com/in", b"{}", {})
    assert not result.ok and error in result.error
