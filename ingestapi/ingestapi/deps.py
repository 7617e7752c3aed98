"""FastAPI dependencies: services come from the app's container, so tests can override providers."""

from typing import Annotated, cast

from fastapi import Depends, Request

from ingestapi.container import Container
from ingestapi.service import (
    DeletionService,
    EditService,
    ImageStatusService,
    JobService,
    KnownImagesService,
    RetryService,
    UploadService,
    UrlSubmissionService,
)
from ingestapi.service.browse import BrowseService, StatsService
from ingestapi.service.duplicate_groups import DuplicatesService
from ingestapi.service.evaluation_requests import ModelEvaluationService
from ingestapi.service.job_events import JobWatchers
from ingestapi.service.webhook_service import WebhookService
from ingestapi.upload_limits import UploadLimits


def container_of(request: Request) -> Container:
    return cast(Container, request.app.state.container)


def _upload_limits(request: Request) -> UploadLimits:
    return container_of(request).upload_limits()


def _upload_service(request: Request) -> UploadService:
    return container_of(request).upload_service()


def _known_images_service(request: Request) -> KnownImagesService:
    return container_of(request).known_images_service()


def _url_submission_service(request: Request) -> UrlSubmissionService:
    return container_of(request).url_submission_service()


def _job_service(request: Request) -> JobService:
    return container_of(request).job_service()


async def _job_watchers(request: Request) -> JobWatchers:
    # on the event loop, where the watchers live: one instance, made once
    return container_of(request).job_watchers()


def _retry_service(request: Request) -> RetryService:
    return container_of(request).retry_service()


def _image_status_service(request: Request) -> ImageStatusService:
    return container_of(request).image_status_service()


def _deletion_service(request: Request) -> DeletionService:
    return container_of(request).deletion_service()


def _edit_service(request: Request) -> EditService:
    return container_of(request).edit_service()


def _browse_service(request: Request) -> BrowseService:
    return container_of(request).browse_service()


def _stats_service(request: Request) -> StatsService:
    return container_of(request).stats_service()


def _duplicates_service(request: Request) -> DuplicatesService:
    return container_of(request).duplicates_service()


def _webhook_service(request: Request) -> WebhookService:
    return container_of(request).webhook_service()


def _model_evaluation_service(request: Request) -> ModelEvaluationService:
    return container_of(request).model_evaluation_service()


ModelEvaluationServiceDep = Annotated[ModelEvaluationService, Depends(_model_evaluation_service)]
WebhookServiceDep = Annotated[WebhookService, Depends(_webhook_service)]
DuplicatesServiceDep = Annotated[DuplicatesService, Depends(_duplicates_service)]
BrowseServiceDep = Annotated[BrowseService, Depends(_browse_service)]
StatsServiceDep = Annotated[StatsService, Depends(_stats_service)]
DeletionServiceDep = Annotated[DeletionService, Depends(_deletion_service)]
EditServiceDep = Annotated[EditService, Depends(_edit_service)]
ImageStatusServiceDep = Annotated[ImageStatusService, Depends(_image_status_service)]
UploadServiceDep = Annotated[UploadService, Depends(_upload_service)]
JobServiceDep = Annotated[JobService, Depends(_job_service)]
JobWatchersDep = Annotated[JobWatchers, Depends(_job_watchers)]
KnownImagesServiceDep = Annotated[KnownImagesService, Depends(_known_images_service)]
UploadLimitsDep = Annotated[UploadLimits, Depends(_upload_limits)]
RetryServiceDep = Annotated[RetryService, Depends(_retry_service)]
UrlSubmissionServiceDep = Annotated[UrlSubmissionService, Depends(_url_submission_service)]
