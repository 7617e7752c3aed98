"""OpenTelemetry traces, set up once per process (``configure_tracing``).

A request's trace starts at nginx (which sends a W3C ``traceparent``; see
conf/nginx/proxy_params.conf), continues in the API's server span, goes into the Celery task
with the message (``trace_carrier`` / ``context_from``) and on into the worker's spans. Redis,
S3 (the minio SDK's urllib3) and Milvus (pymilvus' gRPC) calls get client spans from their
instrumentation. Log lines carry the current trace and span ids (shared.log).
"""

import json
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import SpanKind
from opentelemetry.util.types import Attributes

from shared.config import TelemetrySettings

_configured = False
# the W3C trace context's headers, as the propagator writes them
TRACE_HEADERS = ("traceparent", "tracestate")


class NoLoneClientSpans(Sampler):
    """Starts traces at a ratio, except from a client call made outside any trace: Celery
    polling Redis, readiness pings and start-up calls would each be a trace of one span."""

    def __init__(self, ratio: float) -> None:
        self._ratio = TraceIdRatioBased(ratio)

    def should_sample(
        self,
        parent_context: context.Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[trace.Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        if kind == SpanKind.CLIENT:
            return SamplingResult(Decision.DROP)
        return self._ratio.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"NoLoneClientSpans({self._ratio.get_description()})"


class JsonLinesExporter(SpanExporter):
    """Finished spans, one JSON object a line, appended to a file (each process appends its
    own lines; a line is written in one call)."""

    def __init__(self, path: str) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = "".join(json.dumps(json.loads(span.to_json())) + "\n" for span in spans)
        with self._lock, self._path.open("a") as out:
            out.write(lines)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def sampler(settings: TelemetrySettings) -> Sampler:
    """A span with a parent in this process follows its parent's decision. A parent from
    elsewhere (a client's traceparent, through nginx) is trusted only when configured: else the
    trace id decides at sample_ratio, the same way in every service, so a client cannot have
    every request it sends traced (or none)."""
    if settings.trust_remote_flags:
        return ParentBased(NoLoneClientSpans(settings.sample_ratio))
    by_trace_id = TraceIdRatioBased(settings.sample_ratio)
    return ParentBased(
        NoLoneClientSpans(settings.sample_ratio),
        remote_parent_sampled=by_trace_id,
        remote_parent_not_sampled=by_trace_id,
    )


def configure_tracing(settings: TelemetrySettings, service: str) -> None:
    """The tracer provider and the client instrumentations of this process. A prefork worker
    calls it in the parent: the children inherit both (the batch exporter restarts its
    thread after a fork)."""
    global _configured
    if _configured or not settings.traces:
        return
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}), sampler=sampler(settings)
    )
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    if settings.file:
        provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(settings.file)))
    trace.set_tracer_provider(provider)
    _instrument_clients()
    _configured = True


def _instrument_clients() -> None:
    from opentelemetry.instrumentation.grpc import GrpcInstrumentorClient
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor

    RedisInstrumentor().instrument()
    URLLib3Instrumentor().instrument()
    GrpcInstrumentorClient().instrument()  # type: ignore[no-untyped-call]


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def trace_carrier() -> dict[str, str]:
    """The current trace context as message headers (W3C traceparent), for a task."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def trace_headers(message: Mapping[str, Any] | None) -> dict[str, str]:
    """The trace context among a received message's headers (what trace_carrier sent)."""
    return {k: str(message[k]) for k in TRACE_HEADERS if message and message.get(k)}


def context_from(carrier: Mapping[str, str] | None) -> context.Context:
    """The context a task's producer sent (an empty one when it sent none)."""
    return propagate.extract(dict(carrier or {}))


def links_to(carriers: Sequence[Mapping[str, str] | None]) -> list[trace.Link]:
    """Links to the spans these carriers name: a batch of several tasks has one parent, and
    links to the others."""
    links = []
    for carrier in carriers:
        span = trace.get_current_span(context_from(carrier)).get_span_context()
        if span.is_valid:
            links.append(trace.Link(span))
    return links


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current span, as hex; None outside any span."""
    span = trace.get_current_span().get_span_context()
    if not span.is_valid:
        return None
    return format(span.trace_id, "032x"), format(span.span_id, "016x")
