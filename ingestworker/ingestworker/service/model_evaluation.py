"""Evaluating a candidate model on the user's own library before switching to it: a sample of
the live library, pseudo-queries from what the library says of those pictures
(ingestworker.evaluation.queries), both models embedding the same pictures and queries, and
each one's recall@1/5/10 and MRR (ingestworker.evaluation.recall), time per picture, and
what the switch would cost. No index is touched."""

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from PIL import Image

from ingestworker.evaluation.queries import SOURCES, PseudoQuery, pseudo_queries
from ingestworker.evaluation.recall import first_relevant_ranks, rank_metrics
from shared.embedding import Embedder
from shared.errors import AppError, NotFound
from shared.ids import original_key
from shared.images import decode_image
from shared.log import get_logger
from shared.storage import ObjectStore
from shared.vectors.catalog import ActiveIndex

log = get_logger(__name__)
# rows read to draw the sample from (Milvus answers at most 16,384 a query)
POOL = 16384


class LibraryRows(Protocol):
    def active(self) -> ActiveIndex | None: ...

    def sample_rows(self, limit: int) -> list[dict[str, object]]: ...

    def count(self) -> int: ...


@dataclass
class ModelScore:
    model: str
    dim: int
    runtime: str
    dtype: str
    embed_ms_per_image: float
    embed_ms_per_query: float
    metrics: dict[str, float]
    by_source: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class EvaluationReport:
    sampled: int
    unreadable: int
    queries: int
    queries_by_source: dict[str, int]
    live: ModelScore
    candidate: ModelScore
    library_images: int
    decode_ms_per_image: float
    # a reindex with the candidate: every picture decoded and embedded again, here
    switch_estimated_s: float
    notes: list[str] = field(default_factory=list)


class NothingToEvaluate(AppError):
    status_code = 409
    code = "nothing_to_evaluate"


class ModelEvaluation:
    def __init__(
        self,
        library: LibraryRows,
        store: ObjectStore,
        load: Callable[[str], Embedder],
        batch_size: int = 32,
    ) -> None:
        self._library = library
        self._store = store
        self._load = load
        self._batch_size = batch_size

    def run(
        self,
        candidate: str,
        sample: int = 200,
        seed: int = 0,
        progress: Callable[[str], None] = lambda _: None,
    ) -> EvaluationReport:
        active = self._library.active()
        if active is None:
            raise NothingToEvaluate("nothing is indexed yet: upload pictures first")
        rows = self._library.sample_rows(POOL)
        random.Random(seed).shuffle(rows)
        progress(f"reading {min(sample, len(rows))} of {len(rows)} pictures")
        kept, images, decode_s = self._decoded(rows, sample)
        queries = pseudo_queries(kept)
        if not queries:
            raise NothingToEvaluate(
                "the sample's pictures say nothing to make queries from (no captions, tags, "
                "text, places or descriptive file names)"
            )
        progress(f"{len(queries)} queries from {len(kept)} pictures; the live model")
        live = self._score(self._load(active.model), images, queries)
        progress(f"loading {candidate}")
        candidate_score = self._score(self._load(candidate), images, queries)
        library = self._library.count()
        decode_ms = 1000 * decode_s / max(1, len(images))
        report = EvaluationReport(
            sampled=len(kept),
            unreadable=min(sample, len(rows)) - len(kept),
            queries=len(queries),
            queries_by_source={s: sum(q.source == s for q in queries) for s in SOURCES},
            live=live,
            candidate=candidate_score,
            library_images=library,
            decode_ms_per_image=round(decode_ms, 2),
            switch_estimated_s=round(
                library * (decode_ms + candidate_score.embed_ms_per_image) / 1000, 1
            ),
        )
        if len(queries) < 30:
            report.notes.append(
                f"only {len(queries)} queries: differences of a few hundredths are noise"
            )
        log.info("model_evaluated", candidate=candidate, queries=len(queries), sampled=len(kept))
        return report

    def _decoded(
        self, rows: Sequence[dict[str, object]], sample: int
    ) -> tuple[list[dict[str, object]], list[Image.Image], float]:
        kept, images, took = [], [], 0.0
        for row in rows[:sample]:
            try:
                data = self._store.open(original_key(str(row["id"]))).read()
                began = time.perf_counter()
                images.append(decode_image(data).image)
                took += time.perf_counter() - began
                kept.append(row)
            except (NotFound, AppError, OSError) as exc:  # gone since, or no longer decodes
                log.warning("evaluation_image_skipped", image_id=row.get("id"), reason=str(exc))
        return kept, images, took

    def _score(
        self, embedder: Embedder, images: Sequence[Image.Image], queries: Sequence[PseudoQuery]
    ) -> ModelScore:
        began = time.perf_counter()
        vectors = np.concatenate(
            [
                embedder.embed_images(images[i : i + self._batch_size])
                for i in range(0, len(images), self._batch_size)
            ]
        )
        image_s = time.perf_counter() - began
        began = time.perf_counter()
        texts = embedder.embed_texts([q.text for q in queries])
        text_s = time.perf_counter() - began
        ranks = first_relevant_ranks(vectors, texts, queries)
        info = embedder.info()
        return ModelScore(
            model=str(info["model"]),
            dim=embedder.dim,
            runtime=str(info.get("runtime", "torch")),
            dtype=str(info.get("dtype", "fp32")),
            embed_ms_per_image=round(1000 * image_s / max(1, len(images)), 2),
            embed_ms_per_query=round(1000 * text_s / max(1, len(queries)), 2),
            metrics=rank_metrics(ranks),
            by_source={
                source: rank_metrics(
                    [r for r, q in zip(ranks, queries, strict=True) if q.source == source]
                )
                for source in SOURCES
                if any(q.source == source for q in queries)
            },
        )
