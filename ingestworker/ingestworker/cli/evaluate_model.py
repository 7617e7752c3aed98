"""`uv run evaluate-model --model M`: how a candidate model would search your own library,
beside the live one, before you switch (ingestworker.service.model_evaluation says how).

Samples the live library, makes queries from what it says of its pictures (captions, tags,
text in the picture, places, file names), embeds the sample with both models, and prints
recall@1/5/10 and MRR side by side, each model's time per picture, and what a switch would
cost here. Uses ingestworker's configuration (storage, Milvus); touches no index.
"""

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from ingestworker.cli.setup import command_container
from ingestworker.service.model_evaluation import EvaluationReport
from shared.errors import AppError
from shared.preflight import check_models, exit_on_failure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="evaluate-model", description=__doc__)
    parser.add_argument("--model", required=True, help="the candidate: hub id or directory")
    parser.add_argument("--sample", type=int, default=200, help="pictures to sample")
    parser.add_argument("--seed", type=int, default=0, help="which sample (the same again)")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    if not 10 <= args.sample <= 5000:
        print("evaluate-model: --sample is 10 to 5000 pictures", file=sys.stderr)
        return 2
    container = command_container("evaluate-model")
    embedding = container.settings().embedding.model_copy(update={"model": args.model})
    with exit_on_failure():
        check_models(embedding, "ingestworker")
    try:
        report = container.model_evaluation().run(
            args.model, args.sample, args.seed, progress=lambda line: print(line, flush=True)
        )
    except AppError as exc:
        print(f"evaluate-model: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        container.shutdown_resources()
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2) + "\n")
    return 0


def render(report: EvaluationReport) -> str:
    live, candidate = report.live, report.candidate
    sources = ", ".join(f"{s} {n}" for s, n in report.queries_by_source.items() if n)
    rows = [
        f"sample: {report.sampled} pictures ({report.unreadable} unreadable); "
        f"{report.queries} queries ({sources})",
        f"live:      {live.model} ({live.runtime} {live.dtype})",
        f"candidate: {candidate.model} ({candidate.runtime} {candidate.dtype})",
        "",
        f"{'':<22} {'live':>12} {'candidate':>12}",
        f"{'dimension':<22} {live.dim:>12} {candidate.dim:>12}",
    ]
    for metric in live.metrics:
        rows.append(
            f"{metric:<22} {live.metrics[metric]:>12.3f} {candidate.metrics[metric]:>12.3f}"
        )
    rows += [
        f"{'embed ms / picture':<22} {live.embed_ms_per_image:>12.1f} "
        f"{candidate.embed_ms_per_image:>12.1f}",
        f"{'embed ms / query':<22} {live.embed_ms_per_query:>12.1f} "
        f"{candidate.embed_ms_per_query:>12.1f}",
        "",
        f"switching: {report.library_images} pictures to embed again, about "
        f"{_duration(report.switch_estimated_s)} of decoding and embedding on this machine "
        f"({report.decode_ms_per_image:.1f} + {candidate.embed_ms_per_image:.1f} ms each; "
        "reading and writing come on top): `make reindex MODEL=…`, then `make down` and "
        "`make up MODEL=…`",
        *report.notes,
    ]
    return "\n".join(rows)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


if __name__ == "__main__":
    raise SystemExit(main())
