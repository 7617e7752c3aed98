"""ingestapi's services, one module per resource: uploads, URL submissions, image status,
jobs, browsing and stats, duplicate groups, deletion and edits."""

from ingestapi.service.browse import BrowseService, StatsService
from ingestapi.service.deletion import DeletionService
from ingestapi.service.duplicate_groups import DuplicatesService
from ingestapi.service.edits import EditService
from ingestapi.service.image_status import ImageStatusService, KnownImagesService, RetryService
from ingestapi.service.job_status import JobService
from ingestapi.service.uploads import IncomingFile, UploadService
from ingestapi.service.url_submissions import UrlSubmissionService

__all__ = [
    "BrowseService",
    "DeletionService",
    "DuplicatesService",
    "EditService",
    "ImageStatusService",
    "IncomingFile",
    "JobService",
    "KnownImagesService",
    "RetryService",
    "StatsService",
    "UploadService",
    "UrlSubmissionService",
]
