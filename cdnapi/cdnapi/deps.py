"""FastAPI dependencies: services come from the app's container, so tests can override providers."""

from typing import Annotated, cast

from fastapi import Depends, Request

from cdnapi.container import Container
from cdnapi.service import ImageService


def container_of(request: Request) -> Container:
    return cast(Container, request.app.state.container)


def _image_service(request: Request) -> ImageService:
    return container_of(request).image_service()


ImageServiceDep = Annotated[ImageService, Depends(_image_service)]
