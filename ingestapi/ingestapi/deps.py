"""FastAPI dependencies: services come from the app's container, so tests can override providers."""

from typing import Annotated, cast

from fastapi import Depends, Request

from ingestapi.container import Container
from ingestapi.service import (
    ImageStatusService,
    JobService,
    KnownImagesService,
    UploadService,
    UrlIngestService,
)
from ingestapi.settings import IngestSettings


def _container(request: Request) -> Container:
    return cast(Container, request.app.state.container)


def _ingest_settings(request: Request) -> IngestSettings:
    return _container(request).settings().ingest


def _upload_service(request: Request) -> UploadService:
    return _container(request).upload_service()


def _known_images_service(request: Request) -> KnownImagesService:
    return _container(request).known_images_service()


def _url_ingest_service(request: Request) -> UrlIngestService:
    return _container(request).url_ingest_service()


def _job_service(request: Request) -> JobService:
    return _container(request).job_service()


def _image_status_service(request: Request) -> ImageStatusService:
    return _container(request).image_status_service()


ImageStatusServiceDep = Annotated[ImageStatusService, Depends(_image_status_service)]
UploadServiceDep = Annotated[UploadService, Depends(_upload_service)]
JobServiceDep = Annotated[JobService, Depends(_job_service)]
KnownImagesServiceDep = Annotated[KnownImagesService, Depends(_known_images_service)]
IngestSettingsDep = Annotated[IngestSettings, Depends(_ingest_settings)]
UrlIngestServiceDep = Annotated[UrlIngestService, Depends(_url_ingest_service)]
