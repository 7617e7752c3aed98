from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import SpanKind

from shared.telemetry import NoLoneClientSpans, context_from, links_to, trace_headers


def test_a_client_call_outside_any_trace_starts_none() -> None:
    sampler = NoLoneClientSpans(1.0)
    dropped = sampler.should_sample(None, 1, "BRPOP", SpanKind.CLIENT)
    kept = sampler.should_sample(None, 1, "POST /api/v1/images", SpanKind.SERVER)
    assert dropped.decision == Decision.DROP
    assert kept.decision == Decision.RECORD_AND_SAMPLE


def test_a_tasks_trace_headers_are_read_and_linked() -> None:
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    message = {"traceparent": parent, "tracestate": "", "id": "task-1", "other": 3}
    assert trace_headers(message) == {"traceparent": parent}
    assert trace_headers(None) == {}
    (link,) = links_to([trace_headers(message), None, {"traceparent": "garbage"}])
    assert format(link.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"
    assert context_from(None) is not None
