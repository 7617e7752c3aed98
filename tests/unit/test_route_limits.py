"""Every route a client can call has a rate-limit bucket: the three APIs' routers, read, and
checked against the routes each app publishes."""

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from cdnapi.api.v1 import images as cdn_images
from cdnapi.container import Container as CdnContainer
from cdnapi.main import create_app as cdn_app
from cdnapi.settings import CdnApiSettings
from ingestapi.api.v1 import images, jobs, library, model_evaluations, webhooks
from ingestapi.container import Container as IngestContainer
from ingestapi.main import create_app as ingest_app
from ingestapi.settings import IngestApiSettings
from searchapi.api.v1 import facets, model, saved_searches, search
from searchapi.container import Container as SearchContainer
from searchapi.main import create_app as search_app
from searchapi.settings import SearchApiSettings
from shared.config import StorageSettings

STORAGE = StorageSettings(access_key="k", secret_key="s")
# the client routes of each API: its v1 routers (health, readiness and metrics are the
# operators' and the probes')
APIS: dict[str, tuple[FastAPI, list[APIRouter]]] = {
    "ingestapi": (
        ingest_app(IngestContainer(settings=IngestApiSettings(storage=STORAGE))),
        [images.router, jobs.router, library.router, webhooks.router, model_evaluations.router],
    ),
    "searchapi": (
        search_app(SearchContainer(settings=SearchApiSettings(storage=STORAGE))),
        [search.router, facets.router, saved_searches.router, model.router],
    ),
    "cdnapi": (
        cdn_app(CdnContainer(settings=CdnApiSettings(storage=STORAGE))),
        [cdn_images.router],
    ),
}


def limits_of(route: APIRoute) -> list[str]:
    return [
        d.call.__qualname__
        for d in route.dependant.dependencies
        if d.call is not None and d.call.__qualname__.startswith("rate_limit.")
    ]


def test_every_client_route_of_every_api_has_one_rate_limit_bucket() -> None:
    for name, (app, routers) in APIS.items():
        routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
        unlimited = [r.path for r in routes if len(limits_of(r)) != 1]
        assert unlimited == [], (name, unlimited)
        # and those routers are all the app publishes under /api and /images
        published = {p for p in app.openapi()["paths"] if p.startswith(("/api/", "/images"))}
        checked = {f"{'/api/v1' if name != 'cdnapi' else ''}{r.path}" for r in routes}
        assert published <= checked, (name, published - checked)
