"""`GET /readyz`: whether the dependencies a service needs answer right now (for load balancers
and compose healthchecks); `/healthz` only says the process is alive."""

import asyncio
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from shared.errors import AppError
from shared.web.root import container_of

CHECK_TIMEOUT_S = 3.0
# name -> a call that raises when that dependency does not answer
Checks = dict[str, Callable[[], object]]


def readiness_router(
    checks: Callable[[Request], Checks],
    details: Callable[[Request], dict[str, object]] | None = None,
) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/readyz", summary="200 when every dependency answers, else 503 naming them")
    async def readyz(request: Request) -> JSONResponse:
        named = checks(request)
        outcomes = await asyncio.gather(*(_run(check) for check in named.values()))
        results = dict(zip(named, outcomes, strict=True))
        ready = all(outcome == "ok" for outcome in outcomes)
        body: dict[str, object] = {"status": "ready" if ready else "not ready", "checks": results}
        # nginx checks at its start that it gates image reads alike (docker/nginx)
        body["reads_protected"] = container_of(request).settings().auth.reads_protected
        if details and ready:
            body.update(details(request))
        return JSONResponse(body, status_code=200 if ready else 503)

    return router


async def _run(check: Callable[[], object]) -> str:
    try:
        await asyncio.wait_for(run_in_threadpool(check), CHECK_TIMEOUT_S)
    except TimeoutError:
        return f"no answer in {CHECK_TIMEOUT_S:.0f} s"
    except AppError as exc:
        return exc.detail
    except Exception as exc:  # a readiness probe reports any failure, it never raises
        return type(exc).__name__
    return "ok"
