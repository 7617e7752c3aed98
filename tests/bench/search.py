"""`make bench-search`: vector search latency and ANN recall at 100k and 1M images, the one
search box's sides (meaning only, keywords only, both fused: searchapi.ranking) in the same
run, and the end-to-end text search latency through the running API against the text encoder
alone.

Milvus here is the local stack's milvus-lite server (TCP, the same gRPC API as Milvus
standalone), which offers FLAT, IVF_FLAT and AUTOINDEX. Vectors are random unit 512-d vectors
in 2,000 clusters (photo collections cluster: near-duplicates, bursts, recurring subjects);
queries are perturbed stored vectors. Rows carry camera file names (IMG_01234.jpg), a caption
on 40 % of them and two tags of twenty; keyword queries are a file's stem, a tag or a caption
word. Writes tests/bench/results/search.{json,md}.
"""

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import numpy as np

from imagesearch_dev.localstack import Stack
from searchapi.query_language import parse_query
from searchapi.query_plan import plan_query
from searchapi.ranking import Ranker, SearchQuery
from searchapi.schemas import SearchOptions
from searchapi.settings import SearchSettings
from shared.config import EmbeddingSettings, MilvusSettings
from shared.embedding import load_embedder
from shared.vectors import (
    ImageFilter,
    ImageRecord,
    MilvusVectorIndex,
    filter_expression,
    milvus_index,
)
from tests.bench.sides import search_service
from tests.support.paths import ROOT
from tests.support.stack import own_stack_settings

RESULTS = ROOT / "tests" / "bench" / "results"
VIT_B32 = ROOT / ".run" / "models" / "vit-b-32-random"
DIM = 512
TAGS = [f"tag{i}" for i in range(20)]
CAPTION_WORDS = ["beach", "dinner", "birthday", "lisbon", "snow", "garden", "harbour", "market"]
QUERIES = 200
# a page of the one box (searchapi reads one more to know there is a next page)
PAGE = 20
# what the filtered searches ask: about 5% of the collection passes
FILTER = ImageFilter(taken_from=1_600_000_000, tags=("tag3",))


def unit(rows: np.ndarray) -> np.ndarray:
    normalized: np.ndarray = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return normalized.astype(np.float32)


def make_vectors(count: int, rng: np.random.Generator) -> np.ndarray:
    centres = unit(rng.normal(size=(2000, DIM)))
    which = rng.integers(0, len(centres), count)
    return unit(centres[which] + rng.normal(scale=0.6 / DIM**0.5, size=(count, DIM)))


def load(index: MilvusVectorIndex, vectors: np.ndarray, rng: np.random.Generator) -> float:
    """Plain inserts (the ids are new): an upsert is a delete plus an insert, and milvus-lite's
    upserts slow down as the collection grows."""
    started = time.perf_counter()
    batch = 2000
    for start in range(0, len(vectors), batch):
        chunk = vectors[start : start + batch]
        records = [
            ImageRecord(
                id=f"{start + i:064x}",
                vector=row,
                filename=f"IMG_{start + i:07d}.jpg",
                content_type="image/jpeg",
                width=4000,
                height=3000,
                bytes=3_000_000,
                created_at=1_700_000_000 + start + i,
                taken_at=int(rng.integers(1_500_000_000, 1_700_000_000)),
                tags=[TAGS[int(t)] for t in rng.integers(0, len(TAGS), 2)],
                caption=caption(rng),
                source="bench",
            )
            for i, row in enumerate(chunk)
        ]
        index._client.insert(
            index.collection, [milvus_index._row(r, index.has_keywords) for r in records]
        )
    return time.perf_counter() - started


def caption(rng: np.random.Generator) -> str:
    if rng.random() >= 0.4:
        return ""
    return " ".join(CAPTION_WORDS[int(w)] for w in rng.integers(0, len(CAPTION_WORDS), 3))


def keyword_texts(count: int, rng: np.random.Generator) -> list[str]:
    """A file's stem, a tag or a caption word, in turn."""
    texts = []
    for n in range(QUERIES):
        kind = n % 3
        if kind == 0:
            texts.append(f"IMG_{int(rng.integers(0, count)):07d}")
        elif kind == 1:
            texts.append(TAGS[int(rng.integers(0, len(TAGS)))])
        else:
            texts.append(CAPTION_WORDS[int(rng.integers(0, len(CAPTION_WORDS)))])
    return texts


def timed_box(
    index: MilvusVectorIndex, queries: np.ndarray, texts: list[str]
) -> dict[str, dict[str, float]]:
    """One page of the one box by each side and by both, as searchapi ranks it (Ranker)."""
    defaults = SearchSettings()
    ranker = Ranker(
        index,
        defaults.fusion,
        defaults.keyword_weight,
        defaults.rrf_k,
        defaults.fusion_candidates,
        ThreadPoolExecutor(defaults.keyword_threads),
    )
    options = SearchOptions(limit=PAGE)
    sides = ("meaning only", "keywords only", "both fused")
    times: dict[str, list[float]] = {side: [] for side in sides}
    # the sides take turns on each query, so the box's noise falls on all of them alike
    for vector, text in zip(queries, texts, strict=True):
        plan = plan_query(parse_query(text))
        for side in sides:
            query = SearchQuery(
                (vector,) if side != "keywords only" else (),
                plan.keyword_tokens if side != "meaning only" else (),
                plan.clauses,
            )
            started = time.perf_counter()
            ranker.rank(query, PAGE + 1, options)
            times[side].append(time.perf_counter() - started)
    return {side: percentiles(times[side]) for side in sides}


def reindex(index: MilvusVectorIndex, index_type: str, params: dict[str, int]) -> float:
    client, name = index._client, index.collection
    started = time.perf_counter()
    client.release_collection(name)
    client.drop_index(name, "vector")
    spec = client.prepare_index_params()
    spec.add_index("vector", index_type=index_type, metric_type="COSINE", params=params)
    client.create_index(name, spec)
    client.load_collection(name)
    return time.perf_counter() - started


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    pick = lambda q: round(ms[min(len(ms) - 1, int(q * len(ms)))], 2)  # noqa: E731
    return {"p50": pick(0.5), "p95": pick(0.95), "p99": pick(0.99)}


def timed_searches(
    index: MilvusVectorIndex, queries: np.ndarray, k: int, where: ImageFilter | None
) -> tuple[dict[str, float], list[list[str]]]:
    times, results = [], []
    for q in queries:
        started = time.perf_counter()
        hits = index.search(q.tolist(), k, where=where)
        times.append(time.perf_counter() - started)
        results.append([h.id for h in hits])
    return percentiles(times), results


def bench_size(
    stack: Stack, count: int, nlist: int, nprobe: int, rng: np.random.Generator
) -> dict[str, Any]:
    settings = MilvusSettings(
        uri=f"http://127.0.0.1:{stack.settings.ports.milvus}",
        collection_prefix=f"bench{count}",
        timeout_s=600,
    )
    index = MilvusVectorIndex.connect(settings, "bench-random-512", DIM)
    index.ensure_collection()
    vectors = make_vectors(count, rng)
    load_s = load(index, vectors, rng)
    picks = rng.integers(0, count, QUERIES)
    queries = unit(vectors[picks] + rng.normal(scale=0.5 / DIM**0.5, size=(QUERIES, DIM)))
    texts = keyword_texts(count, rng)
    del vectors
    out: dict[str, Any] = {"vectors": count, "load_s": round(load_s, 1), "indexes": {}}
    exact: dict[int, list[list[str]]] = {}
    for index_type, params, search_params in [
        ("FLAT", {}, {}),
        ("IVF_FLAT", {"nlist": nlist}, {"nprobe": nprobe}),
    ]:
        build_s = reindex(index, index_type, params)
        index._settings = settings.model_copy(update={"search_params": search_params})
        row: dict[str, Any] = {"params": {**params, **search_params}, "build_s": round(build_s, 1)}
        for k in (10, 100):
            row[f"k{k}"], found = timed_searches(index, queries, k, None)
            row[f"k{k}_filtered"], _ = timed_searches(index, queries, k, FILTER)
            if index_type == "FLAT":
                exact[k] = found
            else:
                row[f"recall@{k}"] = round(
                    statistics.mean(
                        len(set(a[:k]) & set(e[:k])) / k
                        for a, e in zip(found, exact[k], strict=True)
                    ),
                    4,
                )
        row["box"] = timed_box(index, queries, texts)
        out["indexes"][index_type] = row
        print(f"  {count}: {index_type} {row}", flush=True)
    index._client.drop_collection(index.collection)
    index.close()
    return out


def bench_end_to_end(stack: Stack, count: int, rng: np.random.Generator) -> dict[str, Any]:
    """searchapi over `count` vectors in the ViT-B/32-size model's own collection, with the
    configured-for-size IVF_FLAT index, against the same text encoder alone."""
    from imagesearch_dev.clip_builder import build_random, vit_b32_config

    if not (VIT_B32 / "model.safetensors").exists():
        build_random(VIT_B32, vit_b32_config())
    settings = MilvusSettings(uri=f"http://127.0.0.1:{stack.settings.ports.milvus}")
    index = MilvusVectorIndex.connect(settings, str(VIT_B32), DIM)
    index.attach()
    load(index, make_vectors(count, rng), rng)
    reindex(index, "IVF_FLAT", {"nlist": 1024})
    index.close()

    texts = [f"a photo of a {w} number {i}" for i, w in enumerate(["dog", "cat", "car"] * 40)]
    encoders: dict[str, Any] = {}
    for runtime, dtype in (("auto", "auto"), ("torch", "fp32")):  # the default, the old one
        chosen_by = EmbeddingSettings(
            model=str(VIT_B32), device="cpu", runtime=runtime, dtype=dtype
        )  # type: ignore[arg-type]
        embedder = load_embedder(chosen_by)
        embedder.embed_texts(["warm up"])
        times = []
        for text in texts[:60]:
            started = time.perf_counter()
            embedder.embed_texts([text])
            times.append(time.perf_counter() - started)
        info = embedder.info()
        encoders[f"{info['runtime']} {info['dtype']}"] = percentiles(times)
        del embedder
    chosen, old = list(encoders)

    chosen_by = EmbeddingSettings(model=str(VIT_B32), device="cpu")  # type: ignore[arg-type]
    text_query = asyncio.run(timed_text_queries(stack, load_embedder(chosen_by)))

    stack.up(["searchapi"])
    end_to_end, cached = [], []
    with httpx.Client(base_url=stack.settings.url("searchapi"), timeout=60) as api:
        api.get("/api/v1/image/search", params={"text": "warm up"}).raise_for_status()
        for text in texts[60:]:
            started = time.perf_counter()
            api.get("/api/v1/image/search", params={"text": text, "limit": 10}).raise_for_status()
            end_to_end.append(time.perf_counter() - started)
        for _ in range(60):
            started = time.perf_counter()
            api.get("/api/v1/image/search", params={"text": texts[0], "limit": 10})
            cached.append(time.perf_counter() - started)
    encode_p, e2e_p = encoders[chosen], percentiles(end_to_end)
    return {
        "vectors": count,
        "model": "random-weight ViT-B/32 (CLIP's text encoder size)",
        "index": "IVF_FLAT nlist 1024, nprobe 16",
        "encoder": chosen,
        "old_encoder": old,
        "encode": encode_p,
        "encode_old": encoders[old],
        "end_to_end": e2e_p,
        "end_to_end_cached_query": percentiles(cached),
        "text_query": text_query,
        "ratio_p50": round(e2e_p["p50"] / encode_p["p50"], 3),
        "encode_speedup_p50": round(encoders[old]["p50"] / encode_p["p50"], 3),
    }


async def timed_text_queries(stack: Stack, embedder: Any) -> dict[str, dict[str, float]]:
    """A text query from text to page (embedding it, searching, fusing) in searchapi's
    SearchService with its default pools, by meaning only and by the one box, taking turns;
    no query vector cache, so every query is embedded."""
    defaults = SearchSettings()
    settings = MilvusSettings(
        uri=f"http://127.0.0.1:{stack.settings.ports.milvus}", search_params={"nprobe": 16}
    )
    index = MilvusVectorIndex.connect(settings, str(VIT_B32), DIM)
    index.attach()
    inference = ThreadPoolExecutor(defaults.inference_threads)
    services = {
        name: search_service(
            index,
            embedder,
            side,
            inference=inference,
            keywords=ThreadPoolExecutor(defaults.keyword_threads),
            query_cache_size=0,
        )
        for name, side in (("meaning only", "meaning"), ("one box", "both"))
    }
    texts = [
        f"a {w} at the {CAPTION_WORDS[i % len(CAPTION_WORDS)]} {i}"
        for i, w in enumerate(["dog", "cat", "car", "boat"] * 30)
    ]
    times: dict[str, list[float]] = {side: [] for side in services}
    options = SearchOptions(limit=PAGE)
    for text in texts:
        for side, service in services.items():
            started = time.perf_counter()
            await service.by_text(text, options)
            times[side].append(time.perf_counter() - started)
    index.close()
    return {side: percentiles(samples) for side, samples in times.items()}


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Search",
        "",
        f"{report['machine']}, {report['date']}. Milvus: {report['milvus']}. Latency measured "
        f"by the client over gRPC, {QUERIES} queries each; filter: `{filter_expression(FILTER)}`.",
        "",
        "| vectors | index | k | p50 ms | p95 ms | p99 ms | filtered p50 | filtered p95 "
        "| filtered p99 | recall |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in report["sizes"]:
        for name, row in size["indexes"].items():
            for k in (10, 100):
                plain, filtered = row[f"k{k}"], row[f"k{k}_filtered"]
                recall = row.get(f"recall@{k}", "exact")
                lines.append(
                    f"| {size['vectors']:,} | {name} {row['params'] or ''} | {k} | "
                    f"{plain['p50']} | {plain['p95']} | {plain['p99']} | {filtered['p50']} | "
                    f"{filtered['p95']} | {filtered['p99']} | {recall} |"
                )
    lines += [
        "",
        f"## The one box: a page ({PAGE}) by meaning, by keywords (BM25) and both fused",
        "",
        "searchapi's Ranker in-process, the same queries on each side, taking turns (a "
        "perturbed vector; a file stem, a tag or a caption word); fused reads the meaning side "
        f"to the page and the keyword side search.fusion_candidates "
        f"({SearchSettings().fusion_candidates}) deep, at least the page.",
        "",
        "| vectors | index | side | p50 ms | p95 ms | p99 ms | / meaning p50 |",
        "|---|---|---|---|---|---|---|",
    ]
    for size in report["sizes"]:
        for name, row in size["indexes"].items():
            box = row.get("box")
            if not box:
                continue
            meaning = box["meaning only"]["p50"]
            for side, p in box.items():
                lines.append(
                    f"| {size['vectors']:,} | {name} | {side} | {p['p50']} | {p['p95']} | "
                    f"{p['p99']} | {round(p['p50'] / meaning, 2)} |"
                )
    lines.append("")
    for size in report["sizes"]:
        builds = ", ".join(f"{n} {r['build_s']} s" for n, r in size["indexes"].items())
        lines.append(f"- {size['vectors']:,}: loaded in {size['load_s']} s; index build {builds}")
    if e2e := report.get("end_to_end"):
        lines += [
            "",
            f"## End to end at {e2e['vectors']:,} ({e2e['model']}, {e2e['index']})",
            "",
            "| | p50 ms | p95 ms | p99 ms |",
            "|---|---|---|---|",
            *(
                f"| {label} | {e2e[key]['p50']} | {e2e[key]['p95']} | {e2e[key]['p99']} |"
                for label, key in [
                    (
                        f"text encoder alone: {e2e.get('old_encoder', 'torch fp32')} (old)",
                        "encode_old",
                    ),
                    (f"text encoder alone: {e2e.get('encoder', '')} (default)", "encode"),
                    ("GET /api/v1/image/search?text=", "end_to_end"),
                    ("same, repeated query (LRU)", "end_to_end_cached_query"),
                ]
            ),
            "",
            f"Ratio end-to-end / default encode at p50: **{e2e['ratio_p50']}**; default "
            f"encode speed-up over the old at p50: **{e2e.get('encode_speedup_p50')}**",
        ]
        if text := e2e.get("text_query"):
            meaning = text["meaning only"]["p50"]
            lines += [
                "",
                "A text query from text to page in searchapi's SearchService (embedding it: "
                "no vector cache; the keyword side runs while the text is embedded), the "
                "sides taking turns:",
                "",
                "| | p50 ms | p95 ms | p99 ms | / meaning p50 |",
                "|---|---|---|---|---|",
                *(
                    f"| {side} | {p['p50']} | {p['p95']} | {p['p99']} | "
                    f"{round(p['p50'] / meaning, 2)} |"
                    for side, p in text.items()
                ),
            ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--no-e2e", action="store_true")
    parser.add_argument(
        "--e2e-only", action="store_true", help="redo the end-to-end part, keep the sizes' rows"
    )
    args = parser.parse_args()
    stack = Stack(
        own_stack_settings(ROOT / ".run" / "bench-search"),
        extra_env={
            "SEARCHAPI__EMBEDDING__MODEL": str(VIT_B32),
            "SEARCHAPI__MILVUS__SEARCH_PARAMS": '{"nprobe": 16}',
            "SEARCHAPI__MILVUS__TIMEOUT_S": "60",
        },
    )
    rng = np.random.default_rng(11)
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "milvus": "milvus-lite 2.5.1 server (local stack)",
        "sizes": [],
    }
    try:
        stack.up(["milvus"])
        if args.e2e_only:
            report["sizes"] = json.loads((RESULTS / "search.json").read_text())["sizes"]
        for size in (int(s) for s in args.sizes.split(",") if not args.e2e_only):
            nlist = 1024 if size <= 200_000 else 4096
            report["sizes"].append(bench_size(stack, size, nlist, nprobe=16, rng=rng))
        if not args.no_e2e:
            report["end_to_end"] = bench_end_to_end(stack, 100_000, rng)
    finally:
        stack.down()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "search.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "search.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
