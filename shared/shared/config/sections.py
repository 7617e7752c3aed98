"""Configuration sections shared by the services; each service composes the ones it needs."""

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from shared.config.secrets import Secret


@dataclass(frozen=True)
class Limit:
    """A limit and the config key that sets it, so an error names the caller's own key."""

    value: int
    key: str  # e.g. "ingest.max_pixels"


class LogSettings(BaseModel):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["console", "json"] = "console"


class TelemetrySettings(BaseModel):
    """OpenTelemetry traces. Spans are made and passed on (into Celery tasks too) whenever
    ``traces`` is on, so every log line carries its trace id; they leave the process only
    where an exporter is configured."""

    traces: bool = True
    # an OTLP/HTTP collector (e.g. http://jaeger:4318); unset: nothing is exported
    otlp_endpoint: str | None = None
    # finished spans as JSON lines, appended to this file (tests, debugging)
    file: str | None = None
    sample_ratio: float = Field(1.0, ge=0.0, le=1.0, description="of traces started here")
    trust_remote_flags: bool = Field(
        False,
        description="follow the sampled flag of a traceparent from outside the process (a "
        "client's, through nginx); off: the decision is sample_ratio's, which each service "
        "makes alike from the trace id",
    )


class RedisSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(6379, ge=1, le=65535)
    db: int = Field(0, ge=0)
    password: Secret | None = None
    # the broker hands an unacknowledged task to another worker after this long: above the
    # longest batch, and how long a whole dead worker's tasks wait (reconcile also finds them)
    visibility_timeout_s: int = Field(3600, ge=5)

    @property
    def url(self) -> str:
        auth = f":{self.password.get_secret_value()}@" if self.password else ""
        return f"redis://{auth}{self.host}:{self.port}/{self.db}"


class StorageSettings(BaseModel):
    endpoint: str = "127.0.0.1:9000"
    secure: bool = False
    region: str = "us-east-1"
    bucket: str = Field("images", min_length=3, max_length=63)
    # secrets: set through the environment only (e.g. INGESTAPI__STORAGE__SECRET_KEY)
    access_key: Secret
    secret_key: Secret


class MilvusSettings(BaseModel):
    uri: str = "http://127.0.0.1:19530"
    token: Secret | None = None
    collection_prefix: str = Field("images", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    index_type: Literal["FLAT", "IVF_FLAT", "HNSW", "AUTOINDEX"] = "FLAT"
    index_params: dict[str, int] = Field(default_factory=dict)
    search_params: dict[str, int] = Field(default_factory=dict)
    timeout_s: float = Field(10.0, gt=0)


class EmbeddingSettings(BaseModel):
    # a hub id or a local directory in sentence-transformers or plain transformers CLIP format
    model: str = "laion/CLIP-ViT-B-32-laion2B-s34B-b79K"
    # optional: another text encoder into the same space (e.g. a multilingual one)
    text_model: str | None = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # torch: sentence-transformers itself (the reference, and the one for CUDA); onnx, openvino:
    # the same towers exported to ONNX, on the CPU; auto: openvino on a CPU, torch on CUDA
    runtime: Literal["auto", "torch", "onnx", "openvino"] = "auto"
    # auto: fp16 on CUDA; on a CPU with native bf16 (AVX512-BF16/AMX) bf16 when it is measured
    # 1.3x faster (once per model, runtime and machine) within cosine 0.999 of fp32, else fp32.
    # int8 (runtime onnx only) is never chosen by auto: its quality is in the benchmark
    dtype: Literal["auto", "fp32", "bf16", "fp16", "int8"] = "auto"
    batch_size: int = Field(32, ge=1, le=1024)
    threads: int = Field(0, ge=0, description="torch threads per process; 0 keeps torch's default")


class DerivedSettings(BaseModel):
    """Smaller copies written next to each original, for the page and cdnapi."""

    thumbnail_px: int = Field(256, ge=32, le=1024, description="fits in a square this size")
    preview_px: int = Field(1280, ge=256, le=4096, description="fits in a square this size")
