from typing import Annotated, cast

from fastapi import Depends, Request

from searchapi.container import Container
from searchapi.service import SearchService


def _search_service(request: Request) -> SearchService:
    return cast(Container, request.app.state.container).search_service()


SearchServiceDep = Annotated[SearchService, Depends(_search_service)]
