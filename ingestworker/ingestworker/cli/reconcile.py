"""`uv run reconcile`: queue again every stored image the live index lacks.

Run it after losing Redis (or on a schedule: the worker's beat task does the same every
reconcile.interval_s). Uses ingestworker's configuration; loads no model.
"""

import argparse
import sys

from ingestworker.cli.setup import command_container
from ingestworker.container import Container
from shared.enrichment import ENRICHMENTS
from shared.errors import AppError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reconcile", description=__doc__)
    parser.add_argument(
        "--retry-failed",
        action="store_true",
        help="also queue again the images that failed (after fixing what made them fail)",
    )
    parser.add_argument(
        "--enrich-again",
        action="append",
        choices=ENRICHMENTS,
        metavar="ENRICHMENT",
        help=f"instead: run this enrichment ({', '.join(ENRICHMENTS)}) again on every indexed "
        "image, e.g. tags after calibrate-tags or a switch of model (repeatable)",
    )
    args = parser.parse_args(argv)
    container = command_container("reconcile")
    if args.enrich_again:
        return _enrich_again(container, args.enrich_again)
    try:
        report = container.reconcile_service().run(retry_failed=args.retry_failed)
    except AppError as exc:
        print(f"reconcile failed: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        container.shutdown_resources()
    print(
        f"stored {report.stored}, indexed {report.indexed}, on their way {report.in_flight}, "
        f"failed {report.failed}, being deleted {report.deleted}, "
        f"queued again {report.requeued}" + (f" (job {report.job_id})" if report.job_id else "")
    )
    if report.failed:
        print("failed images are left as they are: --retry-failed queues them again")
    return 0


def _enrich_again(container: Container, names: list[str]) -> int:
    try:
        queued = container.reconcile_service().enrich_again(names)
    except AppError as exc:
        print(f"reconcile failed: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        container.shutdown_resources()
    print(f"queued {queued} indexed images for {', '.join(names)} again")
    return 0


if __name__ == "__main__":
    sys.exit(main())
