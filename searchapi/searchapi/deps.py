from typing import Annotated, cast

from fastapi import Depends, Request

from searchapi.container import Container
from searchapi.service import SearchService
from searchapi.settings import SearchSettings


def _search_service(request: Request) -> SearchService:
    return cast(Container, request.app.state.container).search_service()


SearchServiceDep = Annotated[SearchService, Depends(_search_service)]


def _search_settings(request: Request) -> SearchSettings:
    return cast(Container, request.app.state.container).settings().search


SearchSettingsDep = Annotated[SearchSettings, Depends(_search_settings)]
