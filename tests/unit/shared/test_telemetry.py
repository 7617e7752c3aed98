from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import SpanKind

from shared.config import TelemetrySettings
from shared.telemetry import NoLoneClientSpans, context_from, links_to, sampler, trace_headers


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


def test_a_remote_parents_sampled_flag_is_ignored_unless_trusted() -> None:
    sampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    unsampled = sampled[:-2] + "00"
    remote = {flags: context_from({"traceparent": flags}) for flags in (sampled, unsampled)}
    trace_id = 0x0AF7651916CD43DD8448EB211C80319C

    def decision(ratio: float, trusted: bool, parent: str) -> Decision:
        settings = TelemetrySettings(sample_ratio=ratio, trust_remote_flags=trusted)
        kind = SpanKind.SERVER
        return sampler(settings).should_sample(remote[parent], trace_id, "GET", kind).decision

    # a client asking for every request to be traced gets the ratio's decision
    assert decision(0.0, False, sampled) == Decision.DROP
    assert decision(1.0, False, unsampled) == Decision.RECORD_AND_SAMPLE
    assert decision(0.0, True, sampled) == Decision.RECORD_AND_SAMPLE
    assert decision(1.0, True, unsampled) == Decision.DROP
