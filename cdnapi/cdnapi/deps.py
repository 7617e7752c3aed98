from typing import Annotated, cast

from fastapi import Depends, Request

from cdnapi.container import Container
from cdnapi.service import ImageService


def _image_service(request: Request) -> ImageService:
    return cast(Container, request.app.state.container).image_service()


ImageServiceDep = Annotated[ImageService, Depends(_image_service)]
