from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, Field

from shared.config import ServiceSettings


class StackPorts(BaseModel):
    nginx: int = Field(8080, ge=1, le=65535)
    # nginx's image cache refresh listener (ingestapi clears deleted images there)
    nginx_refresh: int = Field(8081, ge=1, le=65535)
    ingestapi: int = Field(8001, ge=1, le=65535)
    searchapi: int = Field(8002, ge=1, le=65535)
    cdnapi: int = Field(8003, ge=1, le=65535)
    redis: int = Field(6379, ge=1, le=65535)
    s3: int = Field(9000, ge=1, le=65535)
    milvus: int = Field(19530, ge=1, le=65535)


class StackAuth(BaseModel):
    """Given to every API (and nginx); empty keys: an open stack, on loopback only."""

    api_keys: list[str] = Field(default_factory=list)
    protect_reads: bool = False
    url_signing_key: str | None = None
    allow_keyless: bool = False


class StackSettings(ServiceSettings):
    """conf/stack.yaml, overridden by STACK__<KEY>."""

    service: ClassVar[str] = "stack"

    run_dir: Path = Path(".run")
    host: str = "127.0.0.1"
    ports: StackPorts = StackPorts()
    worker_concurrency: int = Field(1, ge=1)
    # cdnapi is a thin byte pump: more processes serve more images at once
    cdnapi_workers: int = Field(1, ge=1, le=32)
    # the embedding model of every service that embeds (the worker, the enricher, searchapi):
    # a local folder or a Hugging Face id (downloaded once where the hub can be reached, else
    # read from its cache); None: their conf's, the offline model. `make up MODEL=…`
    model: str | None = None
    auth: StackAuth = StackAuth()
    # host names nginx answers to (besides host); others get 421
    server_names: list[str] = Field(default_factory=lambda: ["localhost", "127.0.0.1"])
    # a proxy in front of nginx whose X-Forwarded-For names the client; "unix:" trusts none
    real_ip_from: str = "unix:"
    s3_access_key: str = "S3RVER"
    s3_secret_key: str = "S3RVER"  # noqa: S105 - s3rver's fixed development key

    def url(self, name: str) -> str:
        return f"http://{self.host}:{getattr(self.ports, name)}"
