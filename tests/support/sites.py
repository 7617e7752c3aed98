"""A web site in a test: routes served through an httpx transport, no socket."""

import httpx


def site(routes: dict[str, httpx.Response], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        route = routes.get(request.url.path, httpx.Response(404))
        # its raw bytes, streamed as from a server (reading .content would decode them)
        return httpx.Response(route.status_code, headers=route.headers, stream=route.stream)

    return httpx.MockTransport(handle)
