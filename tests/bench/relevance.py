"""`make bench-relevance`: which way of searching finds what people ask for, on a generated,
labelled library, with the offline model through the production search path (SearchService,
the Milvus adapter, milvus-lite with BM25).

The library: 300 scenes the model knows, two renderings each (600 images), named as cameras
name files (IMG_4821.jpg, DSC01234.JPG, PXL_20230612_103015123.jpg), some with a caption of
the day ("dinner with anna in porto", "a red circle sign in oslo") and one or two tags from a
vocabulary of names, places and events. None of these words describes the picture (a caption
may name a colour or a shape, of something else): what it shows is only in its pixels.

Queries of three kinds, each with its relevant images:
- descriptive: a scene's full caption -> its renderings;
- literal: a file name (whole, stem or its number) -> the images whose name holds it; a tag
  or a caption's word -> the images holding it as a tag or in their caption;
- mixed: a shape and colour with a tag ("red circle lisbon") -> the images showing that and
  tagged so.
Plus feedback: a vaguer description ("a large red circle") judged by the scene; the user
likes the relevant ones in the top 10 and unlikes the rest, once. Recall is measured on what
the user has not judged yet (residual collection), before and after that round.

Modes: meaning only, keywords only, and the fused box with each fusion. Recall@k: the share
of the relevant images in the top k, averaged over queries; MRR: the mean of 1 / the rank of
the first relevant one. Writes tests/bench/results/relevance.{json,md}.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from imagesearch_dev.localstack import Stack
from imagesearch_dev.training.scenes import COLOURS, SHAPES, Scene, all_scenes, render
from searchapi.schemas import Feedback, SearchOptions
from searchapi.service import SearchService
from searchapi.settings import SearchSettings
from shared.config import EmbeddingSettings, MilvusSettings
from shared.embedding import load_embedder
from shared.vectors import ImageRecord, MilvusVectorIndex
from tests.bench.sides import search_service
from tests.support.paths import MODEL_DIR, ROOT
from tests.support.stack import own_stack_settings

RESULTS = ROOT / "tests" / "bench" / "results"
SCENES = 300
RENDERINGS = 2
QUERIES_PER_KIND = 120
KS = (1, 5, 10)
NAMES = ["anna", "ben", "chloe", "david", "elena", "farid", "grace", "hugo", "ines", "jonas"]
PLACES = ["lisbon", "porto", "kyoto", "oslo", "lima", "cairo", "quebec", "zurich", "hanoi"]
EVENTS = ["birthday", "wedding", "graduation", "hike", "picnic", "concert", "marathon"]
CAPTIONS = [
    "dinner with {name} in {place}",
    "{name} at the {event}",
    "{event} in {place}",
    "weekend in {place} with {name}",
    # words a description also uses, about something else than the picture
    "{name} and the {colour} door",
    "a {colour} {shape} sign in {place}",
]
# searchapi's defaults (tests.bench.sides; search.fusion_candidates unless asked)
DEFAULTS = SearchSettings()
MODES = {
    "meaning only": ("meaning", "rrf"),
    "keywords only": ("keywords", "rrf"),
    "box (rrf)": ("both", "rrf"),
    "box (weighted)": ("both", "weighted"),
}


@dataclass(frozen=True)
class Image:
    id: str
    scene: Scene
    filename: str
    caption: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    kind: str
    text: str
    relevant: frozenset[str]


def camera_name(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.5:
        return f"IMG_{rng.randrange(10_000):04d}.jpg"
    if style < 0.8:
        return f"DSC{rng.randrange(100_000):05d}.JPG"
    day = f"2023{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
    return f"PXL_{day}_{rng.randrange(10**9):09d}.jpg"


def library(rng: random.Random) -> list[Image]:
    scenes = rng.sample(all_scenes(), SCENES)
    tags = NAMES + PLACES + EVENTS
    names: set[str] = set()
    images = []
    for n, scene in enumerate(s for s in scenes for _ in range(RENDERINGS)):
        name = camera_name(rng)
        while name in names:
            name = camera_name(rng)
        names.add(name)
        caption = ""
        if rng.random() < 0.6:
            caption = rng.choice(CAPTIONS).format(
                name=rng.choice(NAMES),
                place=rng.choice(PLACES),
                event=rng.choice(EVENTS),
                colour=rng.choice(sorted(COLOURS)),
                shape=rng.choice(SHAPES),
            )
        chosen = tuple(rng.sample(tags, rng.choice((1, 2))))
        images.append(Image(f"{n:064x}", scene, name, caption, chosen))
    return images


def queries(images: list[Image], rng: random.Random) -> list[Query]:
    out: list[Query] = []
    by_scene: dict[Scene, set[str]] = {}
    for image in images:
        by_scene.setdefault(image.scene, set()).add(image.id)
    for scene in rng.sample(sorted(by_scene, key=lambda s: s.caption), QUERIES_PER_KIND):
        out.append(Query("descriptive", scene.caption, frozenset(by_scene[scene])))
    for image in rng.sample(images, QUERIES_PER_KIND):
        stem = image.filename.rsplit(".", 1)[0]
        number = stem.split("_")[-1] if "_" in stem else stem[3:]
        choice = rng.choice(["name", "stem", "number", "tag", "caption word"])
        if choice == "tag" or (choice == "caption word" and image.caption):
            if choice == "tag":
                text = rng.choice(image.tags)
            else:
                text = rng.choice([w for w in image.caption.split() if len(w) > 3])
            # a word is a word wherever it stands: a caption's or a tag
            relevant = {i.id for i in images if text in i.tags or text in i.caption.split()}
        else:
            text = {"name": image.filename, "stem": stem, "number": number}.get(choice, stem)
            relevant = {i.id for i in images if text.lower() in i.filename.lower()}
        out.append(Query("literal", text, frozenset(relevant)))
    for image in rng.sample(images, QUERIES_PER_KIND):
        tag = rng.choice(image.tags)
        scene = image.scene
        relevant = {
            i.id
            for i in images
            if (i.scene.colour, i.scene.shape) == (scene.colour, scene.shape) and tag in i.tags
        }
        out.append(Query("mixed", f"{scene.colour} {scene.shape} {tag}", frozenset(relevant)))
    return out


def feedback_queries(images: list[Image], rng: random.Random) -> list[Query]:
    by_scene: dict[Scene, set[str]] = {}
    for image in images:
        by_scene.setdefault(image.scene, set()).add(image.id)
    chosen = rng.sample(sorted(by_scene, key=lambda s: s.caption), QUERIES_PER_KIND)
    return [
        Query("feedback", f"a {s.size} {s.colour} {s.shape}", frozenset(by_scene[s]))
        for s in chosen
    ]


def service_for(
    index: MilvusVectorIndex, embedder: Any, side: str, fusion: str, candidates: int
) -> SearchService:
    pool = ThreadPoolExecutor(1)
    return search_service(
        index,
        embedder,
        side,
        fusion=fusion,
        candidates=candidates,
        inference=pool,
        keywords=pool,
        query_cache_size=4096,
    )


async def ranked(
    service: SearchService, text: str, feedback: Feedback = Feedback(), limit: int = 10
) -> list[str]:
    options = SearchOptions(limit=limit, collapse=False)
    try:
        body = await service.by_text(text, options, feedback)
    except Exception as exc:  # a literal query the meaning-only mode cannot take
        if "keyword search" in str(exc):
            return []
        raise
    return [item.id for item in body.items]


def scores(rankings: Sequence[tuple[list[str], frozenset[str]]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k in KS:
        out[f"recall@{k}"] = sum(len(set(r[:k]) & rel) / len(rel) for r, rel in rankings) / len(
            rankings
        )
    out["mrr"] = sum(
        next((1 / (n + 1) for n, i in enumerate(r) if i in rel), 0.0) for r, rel in rankings
    ) / len(rankings)
    return {k: round(v, 3) for k, v in out.items()}


async def feedback_round(
    service: SearchService, query: Query
) -> tuple[list[str], list[str], frozenset[str]]:
    """The top 10 of what is left unjudged before and after one round of likes and unlikes on
    the first 10, and the relevant images left unjudged."""
    first = await ranked(service, query.text, limit=30)
    judged = first[:10]
    like = tuple(i for i in judged if i in query.relevant)
    unlike = tuple(i for i in judged if i not in query.relevant)[:5]
    before = first[10:20]
    after = await ranked(service, query.text, Feedback(like, unlike), 20)
    after = [i for i in after if i not in judged][:10]
    return before, after, query.relevant - set(judged)


async def evaluate(services: dict[str, SearchService], images: list[Image]) -> dict[str, Any]:
    rng = random.Random(5)
    asked = queries(images, rng)
    kinds = sorted({q.kind for q in asked}, key=["descriptive", "literal", "mixed"].index)
    table: dict[str, dict[str, Any]] = {}
    for mode, service in services.items():
        table[mode] = {}
        for kind in kinds:
            of_kind = [q for q in asked if q.kind == kind]
            rankings = [(await ranked(service, q.text), q.relevant) for q in of_kind]
            table[mode][kind] = scores(rankings)
        print(f"  {mode}: {table[mode]}", flush=True)
    rounds: dict[str, Any] = {}
    for mode in ("meaning only", "box (rrf)", "box (weighted)"):
        befores, afters = [], []
        for query in feedback_queries(images, random.Random(6)):
            before, after, residual = await feedback_round(services[mode], query)
            if residual:  # nothing left to find: the query does not count
                befores.append((before, residual))
                afters.append((after, residual))
        rounds[mode] = {"before": scores(befores), "after one round": scores(afters)}
        print(f"  feedback {mode}: {rounds[mode]}", flush=True)
    return {"kinds": table, "feedback": rounds, "queries": len(asked)}


def load(index: MilvusVectorIndex, embedder: Any, images: list[Image]) -> None:
    rng = random.Random(3)
    pictures = [render(image.scene, 128, rng) for image in images]
    vectors = embedder.embed_images(pictures)
    index.upsert(
        [
            ImageRecord(
                id=image.id,
                vector=vector.tolist(),
                filename=image.filename,
                content_type="image/jpeg",
                width=128,
                height=128,
                bytes=1,
                created_at=1_700_000_000 + n,
                caption=image.caption,
                tags=image.tags,
            )
            for n, (image, vector) in enumerate(zip(images, vectors, strict=True))
        ]
    )


def score_table(column: str, table: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """One row per mode and kind (or round): recall@1/5/10 and MRR."""
    rows = [
        f"| mode | {column} | recall@1 | recall@5 | recall@10 | MRR |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for mode, parts in table.items():
        for name, s in parts.items():
            rows.append(
                f"| {mode} | {name} | {s['recall@1']} | {s['recall@5']} | {s['recall@10']} "
                f"| {s['mrr']} |"
            )
    return rows


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Relevance: meaning, keywords and the one box",
        "",
        f"{report['machine']}, {report['date']}. The offline model (tiny-clip) through "
        f"SearchService on {report['milvus']}; {report['images']} images, "
        f"{report['queries']} queries ({QUERIES_PER_KIND} of each kind); the box reads the "
        f"keyword side {report['fusion_candidates']} deep (search.fusion_candidates). "
        "Generated by `tests/bench/relevance.py` (its docstring describes the set).",
        "",
        *score_table("kind", report["kinds"]),
    ]
    lines += [
        "",
        "Feedback: a vaguer description, one round of likes (the relevant ones in the top 10) "
        "and unlikes (up to 5 others there); recall of the relevant images not yet judged.",
        "",
        *score_table("round", report["feedback"]),
    ]
    chosen = report["kinds"][report["chosen"]]
    sides = ("meaning only", "keywords only")
    verdicts = []
    for kind, s in chosen.items():
        better = max(report["kinds"][m][kind]["mrr"] for m in sides)
        verdict = "at least" if s["mrr"] >= better else "BELOW"
        verdicts.append(f"{kind}: {verdict} the better side (MRR {s['mrr']} vs {better})")
    lines += [
        "",
        f"Default fusion (search.fusion), the box with the highest MRR summed over the kinds: "
        f"**{report['chosen']}**. Against the better single side, by MRR: "
        + "; ".join(verdicts)
        + ".",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--fusion-candidates",
        type=int,
        default=DEFAULTS.fusion_candidates,
        help="the keyword side's depth (a value other than searchapi's default writes "
        "relevance-candidates-N.{json,md})",
    )
    args = parser.parse_args()
    candidates = args.fusion_candidates
    stack = Stack(own_stack_settings(ROOT / ".run" / "bench-relevance"))
    embedder = load_embedder(EmbeddingSettings(model=str(MODEL_DIR), device="cpu"))  # type: ignore[arg-type]
    images = library(random.Random(1))
    try:
        stack.up(["milvus"])
        settings = MilvusSettings(
            uri=f"http://127.0.0.1:{stack.settings.ports.milvus}", collection_prefix="relevance"
        )
        index = MilvusVectorIndex.connect(settings, str(MODEL_DIR), embedder.dim)
        index.attach()
        load(index, embedder, images)
        services = {
            mode: service_for(index, embedder, side, fusion, candidates)
            for mode, (side, fusion) in MODES.items()
        }
        result = asyncio.run(evaluate(services, images))
        index._client.drop_collection(index.collection)
        index.close()
    finally:
        stack.down()
    box = {m: r for m, r in result["kinds"].items() if m.startswith("box")}
    chosen = max(box, key=lambda m: sum(s["mrr"] for s in box[m].values()))
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "milvus": "milvus-lite 2.5.1 server (local stack)",
        "images": len(images),
        "fusion_candidates": candidates,
        **result,
        "chosen": chosen,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = (
        "relevance"
        if candidates == DEFAULTS.fusion_candidates
        else f"relevance-candidates-{candidates}"
    )
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
