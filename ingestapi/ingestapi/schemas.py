"""ingestapi's own response bodies (the upload and job bodies are in shared.schemas: the
worker writes the state they report)."""

from pydantic import BaseModel, Field


class ImageFormat(BaseModel):
    content_type: str
    suffixes: list[str] = Field(description="file name suffixes, lowercase, with the dot")


class RetryResponse(BaseModel):
    id: str
    state: str = Field(description="queued: it is on its way again")
    job_id: str = Field(description="follow it at /api/v1/jobs/{job_id}")


class FormatsResponse(BaseModel):
    formats: list[ImageFormat]
