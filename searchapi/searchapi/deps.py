"""FastAPI dependencies: services come from the app's container, so tests can override providers."""

from typing import Annotated, cast

from fastapi import Depends, Request

from searchapi.container import Container
from searchapi.facet_counts import FacetService
from searchapi.live_model import LiveModel
from searchapi.saved_search_service import SavedSearchService
from searchapi.service import SearchService
from searchapi.settings import SearchSettings


def container_of(request: Request) -> Container:
    return cast(Container, request.app.state.container)


def _search_service(request: Request) -> SearchService:
    return container_of(request).search_service()


def _facet_service(request: Request) -> FacetService:
    return container_of(request).facet_service()


def _saved_search_service(request: Request) -> SavedSearchService:
    return container_of(request).saved_search_service()


def _live_model(request: Request) -> LiveModel:
    return container_of(request).live_model()


def _search_settings(request: Request) -> SearchSettings:
    return container_of(request).settings().search


SearchServiceDep = Annotated[SearchService, Depends(_search_service)]
FacetServiceDep = Annotated[FacetService, Depends(_facet_service)]
SearchSettingsDep = Annotated[SearchSettings, Depends(_search_settings)]
LiveModelDep = Annotated[LiveModel, Depends(_live_model)]
SavedSearchServiceDep = Annotated[SavedSearchService, Depends(_saved_search_service)]
