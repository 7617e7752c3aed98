"""`make bench-saved`: what matching a new image against every saved search costs the worker,
at 10, 100 and 1,000 saved searches (shared.saved_searches.matcher).

The searches are made like real ones: a 512-d query vector each (the real CLIP's size) with
a min_score that about 2 % of images pass, one to three words for half of them (each word
looked for in every keyword field, as the box does; the words are the auto-tag vocabulary's),
an excluded word for a tenth, a filter (tags, a date range or a place) for a quarter. The
images are rows as the index stores them: a file name, a caption, tags, auto-tags, for some
text read in the picture and a place. The time is the worker's CPU for one image against all
searches (the matcher built once), median and 99th percentile over 2,000 images, one BLAS
thread (make bench-saved sets it)."""

import os
import platform
import random
import statistics
import time
from typing import Any

import numpy as np

from ingestworker.enrichers.vocabulary import shipped_vocabulary
from shared.keywords import KEYWORD_FIELDS
from shared.saved_searches import MatchCriteria
from shared.saved_searches.matcher import SavedSearchMatcher
from shared.vectors import ImageFilter
from tests.bench.report import save_results

DIM = 512
IMAGES = 2000
COUNTS = (10, 100, 1000)
# the words searches and images use: the auto-tag vocabulary's one-word tags (about 300)
WORDS = [c.tag for c in shipped_vocabulary() if " " not in c.tag]
SEED = 3


def tokens(word: str) -> tuple[str, ...]:
    return tuple(f"{field}:{word}" for field in KEYWORD_FIELDS)


def clauses(words: list[str]) -> tuple[tuple[tuple[str, ...], ...], ...]:
    """Each word a clause, held in any field, as the box reads "dog beach"."""
    return tuple(tuple((token,) for token in tokens(w)) for w in words)


def searches(count: int, rng: random.Random, vectors: np.ndarray) -> list[MatchCriteria]:
    out = []
    for n in range(count):
        words = rng.sample(WORDS, rng.randint(1, 3)) if n % 2 == 0 else []
        where = None
        if n % 4 == 1:
            where = rng.choice(
                [
                    ImageFilter(tags=(rng.choice(WORDS),)),
                    ImageFilter(taken_from=1_600_000_000, taken_to=1_700_000_000),
                    ImageFilter(place="Portugal"),
                ]
            )
        out.append(
            MatchCriteria(
                search_id=f"s{n}",
                vectors=(tuple(float(x) for x in vectors[n]),),
                min_score=0.09,  # ~2 % of random 512-d unit vectors score above it
                clauses=clauses(words),
                excluded=tokens(rng.choice(WORDS)) if n % 10 == 3 else (),
                where=where,
            )
        )
    return out


def image_rows(rng: random.Random) -> list[dict[str, object]]:
    rows = []
    for n in range(IMAGES):
        caption = " ".join(rng.sample(WORDS, 4)) if n % 3 else ""
        row: dict[str, object] = {
            "filename": f"IMG_{n:05d}.jpg",
            "caption": caption,
            "tags": rng.sample(WORDS, rng.randint(0, 3)),
            "auto_tags": rng.sample(WORDS, rng.randint(0, 5)),
            "created_at": 1_700_000_000 + n,
            "taken_at": 1_550_000_000 + 60_000 * n,
            "width": 4000,
            "height": 3000,
        }
        if n % 5 == 0:
            row["text"] = "CAFE ROMA OPEN 24H\nTOTAL 12.50 EUR"
        if n % 4 == 0:
            row.update(place="Baixa, Lisbon, Portugal", city="Lisbon", country="Portugal")
        rows.append(row)
    return rows


def unit(matrix: np.ndarray) -> np.ndarray:
    out: np.ndarray = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    return out


def measure(count: int) -> dict[str, Any]:
    rng, np_rng = random.Random(SEED), np.random.default_rng(SEED)
    matcher = SavedSearchMatcher(searches(count, rng, unit(np_rng.normal(size=(count, DIM)))))
    images = unit(np_rng.normal(size=(IMAGES, DIM)))  # rows hold lists: as the worker reads them
    rows = image_rows(rng)
    took, matched = [], 0
    for n, (vector, row) in enumerate(zip(images, rows, strict=True)):
        began = time.process_time_ns()
        matched += len(matcher.match(f"{n:064x}", vector.tolist(), row))
        took.append((time.process_time_ns() - began) / 1e6)
    took.sort()
    return {
        "saved_searches": count,
        "images": IMAGES,
        "ms_per_image_p50": round(statistics.median(took), 4),
        "ms_per_image_p99": round(took[int(0.99 * len(took))], 4),
        "matches_per_image": round(matched / IMAGES, 2),
    }


def markdown(report: dict[str, Any]) -> str:
    rows = [
        "| saved searches | ms of worker CPU an image, p50 | p99 | searches matched an image |",
        "|---|---|---|---|",
    ]
    for r in report["runs"]:
        rows.append(
            f"| {r['saved_searches']:,} | {r['ms_per_image_p50']} | {r['ms_per_image_p99']} | "
            f"{r['matches_per_image']} |"
        )
    return (
        f"# Saved searches: matching a new image\n\n{report['machine']}. {IMAGES:,} images, "
        f"{DIM}-d vectors, one thread (tests/bench/saved.py says how the searches are made)."
        "\n\n" + "\n".join(rows) + "\n"
    )


def main() -> None:
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "runs": [measure(count) for count in COUNTS],
    }
    save_results("saved", report, markdown(report))


if __name__ == "__main__":
    main()
