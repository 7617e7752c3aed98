"""`uv run calibrate-tags --folder DIR`: which auto-tags the model may give, and from what
score, measured on your labelled pictures (ingestworker.service.tag_calibrating says how to
lay the folder out; ingestworker.enrichers.tag_calibration how each threshold is chosen).

Uses ingestworker's configuration for the model (--model to calibrate another) and writes
the calibration where the enrichment reads it. Touches no index; enrichment workers read it
when they start, and tag the pictures they enrich from then on.
"""

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from ingestworker.enrichers.tag_calibration import calibration_path
from ingestworker.enrichers.vocabulary import shipped_vocabulary
from ingestworker.service.tag_calibrating import calibrate_model, read_labelled_folder
from ingestworker.settings import ModelSettings
from shared.embedding import load_embedder
from shared.log import configure_logging
from shared.preflight import check_models, exit_on_failure, load_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="calibrate-tags", description=__doc__)
    parser.add_argument("--folder", type=Path, required=True, help="one sub-folder per tag")
    parser.add_argument("--model", help="hub id or directory (default: embedding.model)")
    parser.add_argument("--precision", type=float, default=0.9, help="each tag's target")
    parser.add_argument("--min-positives", type=int, default=10, help="pictures a tag needs")
    parser.add_argument("--about", help="what the pictures are, for the calibration file")
    parser.add_argument("--out", type=Path, help="default: where the enrichment reads it")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(f"calibrate-tags: {args.folder} is not a folder", file=sys.stderr)
        return 2
    if not 0 < args.precision <= 1:
        print("calibrate-tags: --precision is a fraction (0.9)", file=sys.stderr)
        return 2

    with exit_on_failure():
        settings = load_config(ModelSettings)
    configure_logging(settings.log.model_copy(update={"level": "WARNING"}), "calibrate-tags")
    embedding = settings.embedding.model_copy(update={"model": args.model} if args.model else {})
    with exit_on_failure():
        check_models(embedding, "ingestworker")
    concepts = shipped_vocabulary()
    folder = read_labelled_folder(args.folder, [c.tag for c in concepts])
    print(f"{len(folder.pictures)} pictures; folders of no tag (negatives): "
          f"{', '.join(folder.unknown) or 'none'}")  # fmt: skip
    embedder = load_embedder(embedding)
    with tqdm(total=len(folder.pictures), unit="img", desc="embed") as bar:

        def advance(done: int) -> None:
            bar.update(done - bar.n)

        calibration = calibrate_model(
            embedder,
            concepts,
            folder,
            made_on=args.about or f"{len(folder.pictures)} pictures of {args.folder.name}/",
            target_precision=args.precision,
            min_positives=args.min_positives,
            batch_size=embedding.batch_size,
            progress=advance,
        )
    out = args.out or calibration_path(
        embedding.model, settings.enrichment.tags.calibrations_folder()
    )
    calibration.save(out)
    for path in folder.unreadable:
        print(f"  unreadable, left out: {path}")
    print(f"{'tag':<20} {'threshold':>9} {'precision':>9} {'recall':>7} {'pictures':>8}")
    for tag in calibration.tags:
        print(f"{tag.tag:<20} {tag.threshold:>9.4f} {tag.precision:>9.3f} {tag.recall:>7.3f} "
              f"{tag.positives:>8}")  # fmt: skip
    print(f"{len(calibration.tags)} tags calibrated, {len(calibration.left_out)} left out "
          f"(the file lists why); written to {out}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
