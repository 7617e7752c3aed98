"""`uv run reindex [--model M]`: rebuild the index with another model, then switch to it.

Uses ingestworker's configuration (conf/ingestworker.yaml + INGESTWORKER__* overrides) for
storage and Milvus; --model defaults to embedding.model. Afterwards restart ingestworker and
searchapi with embedding.model set to the new model.
"""

import argparse
import sys

from tqdm import tqdm

from ingestworker.service.reindex import ReindexService
from ingestworker.settings import IngestWorkerSettings
from shared.config import load_settings
from shared.embedding import load_embedder
from shared.embedding.availability import require_models
from shared.errors import AppError
from shared.log import configure_logging
from shared.storage import MinioObjectStore
from shared.vectors import MilvusVectorIndex


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reindex", description=__doc__)
    parser.add_argument("--model", help="hub id or directory (default: embedding.model)")
    parser.add_argument(
        "--batch-size", type=int, help="images per batch (default: embedding.batch_size)"
    )
    parser.add_argument("--no-switch", action="store_true", help="build only; do not go live")
    args = parser.parse_args(argv)

    settings = load_settings(IngestWorkerSettings)
    configure_logging(settings.log.model_copy(update={"level": "WARNING"}), "reindex")
    embedding = settings.embedding.model_copy(
        update={k: v for k, v in {"model": args.model, "batch_size": args.batch_size}.items() if v}
    )
    require_models(embedding, "ingestworker")
    try:
        embedder = load_embedder(embedding)
        target = MilvusVectorIndex.connect(settings.milvus, embedder.model_id, embedder.dim)
        target.ensure_collection()
        live = target.active()
        print(f"live: {live.collection if live else 'none'} ({live.model if live else '-'})")
        print(f"target: {target.collection} ({embedder.model_id}, {embedder.dim}-d)")
        service = ReindexService(
            MinioObjectStore.from_settings(settings.storage), target, embedder, embedding.batch_size
        )
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
    print(
        f"indexed {report.indexed}, already there {report.skipped}, failed {len(report.failed)}"
        + ("; switched: search now uses " + target.collection if report.switched else "")
    )
    for image_id, reason in report.failed.items():
        print(f"  failed {image_id}: {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
