"""`uv run reindex [--model M]`: rebuild the index with another model, then switch to it.

Uses ingestworker's configuration (conf/ingestworker.yaml + INGESTWORKER__* overrides) for
storage and Milvus; --model defaults to embedding.model. Afterwards restart ingestworker and
searchapi with embedding.model set to the new model.
"""

import argparse
import sys

from dependency_injector import providers
from tqdm import tqdm

from ingestworker.cli.setup import command_container
from shared.embedding import load_embedder
from shared.errors import AppError
from shared.preflight import check_models, exit_on_failure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reindex", description=__doc__)
    parser.add_argument("--model", help="hub id or directory (default: embedding.model)")
    parser.add_argument(
        "--batch-size", type=int, help="images per batch (default: embedding.batch_size)"
    )
    parser.add_argument("--no-switch", action="store_true", help="build only; do not go live")
    args = parser.parse_args(argv)

    container = command_container("reindex")
    embedding = container.settings().embedding
    embedding = embedding.model_copy(update={"model": args.model} if args.model else {})
    with exit_on_failure():
        check_models(embedding, "ingestworker")
    container.embedder.override(providers.Singleton(load_embedder, embedding))
    try:
        embedder = container.embedder()
        target = container.reindex_target()
        live = target.active()
        print(f"live: {live.collection if live else 'none'} ({live.model if live else '-'})")
        print(f"target: {target.collection} ({embedder.model_id}, {embedder.dim}-d)")
        batch_size = args.batch_size or embedding.batch_size
        service = container.reindex_service(batch_size=batch_size)
        with tqdm(unit="img", desc="reindex") as bar:

            def advance(done: int, total: int) -> None:
                bar.total = total
                bar.update(done)

            report = service.build(advance)
        if not args.no_switch:
            service.switch(report)
    except AppError as exc:
        print(f"reindex failed: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        container.shutdown_resources()
    print(
        f"indexed {report.indexed}, already there {report.skipped}, failed {len(report.failed)}"
        + ("; switched: search now uses " + target.collection if report.switched else "")
    )
    for image_id, reason in report.failed.items():
        print(f"  failed {image_id}: {reason}")
    if report.switched and live is not None and live.model != embedder.model_id:
        # what enrichment found is carried; auto-tags are the old model's calibration's
        print(
            "auto-tags came with the images from the old model: once the workers run the new "
            "one (and it has a calibration: calibrate-tags), run `reconcile --enrich-again tags`"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
