"""ingestapi's own response bodies (the upload and job bodies are in shared.schemas: the
worker writes the state they report)."""

from pydantic import BaseModel, Field


class ImageFormat(BaseModel):
    content_type: str
    suffixes: list[str] = Field(description="file name suffixes, lowercase, with the dot")


class FormatsResponse(BaseModel):
    formats: list[ImageFormat]
