"""`make bench-enrich`: how right and how costly the enrichment stages are, on labelled sets
the project generates.

Ingest with and without enrichment, in one run: bench-embed's end-to-end run (2 MP photos, the
ViT-B/32-size model, the default config, a stack of its own), alternated: enrichment off
(`enrichment.enabled: false`, no enrichment worker) and on (the enrichment worker beside the
index worker on the same 2 cores, at the lowest CPU priority, as the local stack runs it). The
time is from the first upload to the last image searchable; with enrichment on, also until its
backlog is empty (the backlog's rate).

Text in the picture (ingestworker.enrichers.ocr, through the enricher as the worker runs it):
tests/bench/ocr_set.py prints words into photo-like scenes (signs, small print, low contrast,
turned a quarter or upside down, tilted) and keeps the same scenes without text. Word recall is
the share of printed words found among the words read; invented words are the words read from
pictures without text, per 100 pictures. The gate's pass rate, the time per picture (stopped at
the gate, or read), and a page of 10,000 tiny words (time, memory, lines read) are measured.

Places: the labelled points are GeoNames towns (the data reverse_geocode ships), each labelled
with its own country. Every town within 5 km of a town of another country (border towns) and
a random 2,000 others are held out of the finder's data, so each is looked up as a point the
finder has never seen; their nearest remaining towns are often across the border. The baseline
is what a nearest-town lookup (reverse_geocode, reverse_geocoder) answers: the country of the
nearest remaining town. Disputed territory (the West Bank, the Golan Heights, the Paracels),
where GeoNames' country and the border polygons' disagree by politics, is counted apart.

Auto-tags: tests/bench/auto_tags.py.
Writes tests/bench/results/enrich.{json,md}."""

import argparse
import io
import json
import math
import os
import platform
import random
import resource
import time
from typing import Any

import numpy as np
import reverse_geocode
from PIL import Image
from scipy.spatial import cKDTree

from ingestworker.enrichers import EnrichTarget, OcrEnricher
from ingestworker.enrichers.places import PlaceFinder
from ingestworker.enrichers.text_reader import OcrSettings, TextReader
from shared.ids import preview_key
from shared.keywords import words
from tests.bench.auto_tags import auto_tags, auto_tags_markdown
from tests.bench.ocr_set import KINDS, labelled_set, small_print_page
from tests.bench.report import RESULTS, save_results
from tests.unit.fakes import InMemoryObjectStore

BORDER_KM = 5.0
INTERIOR_SAMPLE = 2000
SEED = 7
# (country by GeoNames, country by the polygons) pairs that are disputed, not wrong
DISPUTED = {frozenset(p) for p in (("PS", "IL"), ("SY", "IL"), ("VN", "CN"))}


def unit(lat: float, lon: float) -> tuple[float, float, float]:
    phi, lam = math.radians(lat), math.radians(lon)
    return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))


def labelled_towns(towns: list[dict[str, Any]]) -> tuple[list[int], list[int]]:
    """Border towns (another country's town within BORDER_KM) and a sample of the others."""
    tree = cKDTree(np.array([unit(t["latitude"], t["longitude"]) for t in towns]))
    chord = 2 * math.sin(BORDER_KM / 6371.0 / 2)
    border = []
    for i, town in enumerate(towns):
        near = tree.query_ball_point(unit(town["latitude"], town["longitude"]), chord)
        if any(towns[j]["country_code"] != town["country_code"] for j in near):
            border.append(i)
    rest = sorted(set(range(len(towns))) - set(border))
    return border, random.Random(SEED).sample(rest, INTERIOR_SAMPLE)


def places(towns: list[dict[str, Any]]) -> dict[str, Any]:
    border, interior = labelled_towns(towns)
    held = set(border) | set(interior)
    known = [t for i, t in enumerate(towns) if i not in held]
    finder = PlaceFinder(towns=known)
    finder.find(0.0, 0.0)  # loads the polygons and builds the towns' tree
    nearest = cKDTree(np.array([unit(t["latitude"], t["longitude"]) for t in known]))

    def score(indices: list[int]) -> dict[str, Any]:
        right = baseline = disputed = 0
        wrong: list[str] = []
        began = time.perf_counter()
        for i in indices:
            town = towns[i]
            place = finder.find(town["latitude"], town["longitude"])
            got = place.country_code if place else None
            if got == town["country_code"]:
                right += 1
            elif got and frozenset((got, town["country_code"])) in DISPUTED:
                disputed += 1
            else:
                wrong.append(f"{town['city']} ({town['country_code']}, found {got})")
        took = time.perf_counter() - began
        for i in indices:
            town = towns[i]
            _, j = nearest.query(unit(town["latitude"], town["longitude"]))
            baseline += known[int(j)]["country_code"] == town["country_code"]
        n = len(indices)
        return {
            "points": n,
            "country_right": round(right / n, 4),
            "country_right_undisputed": round(right / (n - disputed), 4),
            "disputed": disputed,
            "nearest_town_baseline": round(baseline / n, 4),
            "us_per_point": round(took / n * 1e6, 1),
            "wrong_examples": wrong[:12],
        }

    return {"border": score(border), "interior": score(interior)}


OCR_PER_KIND = 40
OCR_TEXTLESS = 100


def ocr() -> dict[str, Any]:
    store = InMemoryObjectStore()  # holds the previews the enricher reads
    settings = OcrSettings()
    reader = TextReader(settings)
    enrich = OcrEnricher(store, reader)
    images = labelled_set(OCR_PER_KIND, OCR_TEXTLESS)
    enrich(_target(store, "warm-up", images[0].jpeg))  # loads the models
    kinds: dict[str, dict[str, Any]] = {}
    for image in images:
        began = time.perf_counter()
        outcome = enrich(_target(store, image.name, image.jpeg))
        took = time.perf_counter() - began
        read = set(words(str(outcome.fields.get("text", ""))))
        truth = [w for word in image.words for w in words(word)]
        k = kinds.setdefault(image.kind, _tally())
        k["pictures"] += 1
        k["words"] += len(truth)
        k["found"] += sum(w in read for w in truth)
        k["read_words"] += len(read)
        passed = outcome.reason != "no text found"
        k["passed_gate"] += passed
        k["read_s" if passed else "gate_s"].append(took)
    rows = {}
    for kind, k in kinds.items():
        rows[kind] = {
            "pictures": k["pictures"],
            "word_recall": round(k["found"] / k["words"], 3) if k["words"] else None,
            "words_read_per_100": round(100 * k["read_words"] / k["pictures"], 1),
            "gate_pass_rate": round(k["passed_gate"] / k["pictures"], 3),
            "ms_stopped_at_gate": _mean_ms(k["gate_s"]),
            "ms_read": _mean_ms(k["read_s"]),
        }
    printed = [kinds[k] for k in KINDS]
    # the worst a picture can ask: thousands of words of small print, read past the gate
    page, printed_words = small_print_page()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.perf_counter()
    with Image.open(io.BytesIO(page)) as picture:
        page_lines = reader.read(picture)
    page_s = time.perf_counter() - began
    return {
        "kinds": rows,
        "word_recall_all_printed": round(
            sum(k["found"] for k in printed) / sum(k["words"] for k in printed), 3
        ),
        "invented_words_per_100_textless": rows["textless"]["words_read_per_100"],
        "settings": {
            "gate_px": settings.gate_px,
            "gate_min_score": settings.gate_min_score,
            "gate_min_elongation": settings.gate_min_elongation,
            "min_confidence": settings.min_confidence,
            "max_lines": settings.max_lines,
        },
        "small_print_page": {
            "words_printed": printed_words,
            "lines_read": len(page_lines),
            "s": round(page_s, 2),
            "peak_rss_growth_mb": round(
                (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024, 1
            ),
        },
    }


def _tally() -> dict[str, Any]:
    counts: dict[str, Any] = dict.fromkeys(
        ("pictures", "words", "found", "read_words", "passed_gate"), 0
    )
    return {**counts, "gate_s": [], "read_s": []}


def _target(store: InMemoryObjectStore, image_id: str, jpeg: bytes) -> EnrichTarget:
    store.put(preview_key(image_id), jpeg, "image/jpeg")
    return EnrichTarget(image_id, {})


def _mean_ms(seconds: list[float]) -> float | None:
    return round(1000 * sum(seconds) / len(seconds), 1) if seconds else None


INGEST_IMAGES = 128


def ingest() -> dict[str, Any]:
    from imagesearch_dev.clip_builder import build_random, vit_b32_config
    from tests.bench.embed import NEW_DEFAULT, VIT_B32, bench_e2e

    if not (VIT_B32 / "model.safetensors").exists():
        build_random(VIT_B32, vit_b32_config())
    off = {"INGESTWORKER__ENRICHMENT__ENABLED": "false"}
    runs: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
    for mode in ("off", "on", "off", "on"):
        print(f"enrichment {mode}", flush=True)
        run = bench_e2e(
            VIT_B32, INGEST_IMAGES, NEW_DEFAULT, 32, off if mode == "off" else {}, mode == "on"
        )
        runs[mode].append(run)
    return summarised(runs)


def summarised(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    rate = {m: sum(r["images_per_s"] for r in rs) / len(rs) for m, rs in runs.items()}
    on = runs["on"]
    enriched = [INGEST_IMAGES / r["enriched_s"] for r in on]
    # once indexing is done, enrichment has the cores: the backlog's own rate
    drained = [r["enrichment_backlog_when_indexed"] / (r["enriched_s"] - r["seconds"]) for r in on]
    return {
        "images": INGEST_IMAGES,
        "runs": runs,
        "searchable_images_per_s": {m: round(v, 2) for m, v in rate.items()},
        "on_over_off": round(rate["on"] / rate["off"], 3),
        "enriched_images_per_s": round(sum(enriched) / len(enriched), 2),
        "backlog_drained_images_per_s": round(sum(drained) / len(drained), 2),
    }


def ingest_markdown(i: dict[str, Any]) -> str:
    rows = ["| enrichment | searchable img/s (each run) | mean |", "|---|---|---|"]
    for mode in ("off", "on"):
        each = ", ".join(str(r["images_per_s"]) for r in i["runs"][mode])
        rows.append(f"| {mode} | {each} | {i['searchable_images_per_s'][mode]} |")
    backlog = ", ".join(str(r["enrichment_backlog_when_indexed"]) for r in i["runs"]["on"])
    return (
        f"## Ingest with and without enrichment\n\n{i['images']} 2 MP photos a run, runs "
        "alternated, from the first upload to the last image searchable.\n\n"
        + "\n".join(rows)
        + f"\n\nOn / off: **{i['on_over_off']}** (the same mode's two runs differ by up to 10 %). "
        f"Enrichment waiting when the last image was searchable: {backlog} images (at the lowest "
        "priority it yields the cores to indexing); then the backlog drained at "
        f"**{i['backlog_drained_images_per_s']} images/s**, {i['enriched_images_per_s']} "
        "images/s counted from the first upload.\n"
    )


def markdown(report: dict[str, Any]) -> str:
    p = report["places"]
    rows = [
        "| points | n | country right | right, disputed apart | nearest town (baseline) "
        "| µs a point |",
        "|---|---|---|---|---|---|",
    ]
    for name, label in (("border", f"within {BORDER_KM:g} km of a border"), ("interior", "others")):
        s = p[name]
        rows.append(
            f"| {label} | {s['points']:,} | {s['country_right']:.2%} | "
            f"{s['country_right_undisputed']:.2%} ({s['disputed']} disputed) | "
            f"{s['nearest_town_baseline']:.2%} | {s['us_per_point']} |"
        )
    wrong = "; ".join(p["border"]["wrong_examples"]) or "none"
    return (
        f"# Enrichment\n\n{report['machine']}.\n\n"
        + ingest_markdown(report["ingest"])
        + "\n"
        + ocr_markdown(report["ocr"])
        + "\n## Places: the country of a GPS position\n\nGeoNames towns held out of the "
        "finder's data and looked up as new points.\n\n"
        + "\n".join(rows)
        + f"\n\nWrong near borders (first of them): {wrong}.\n"
        + ("\n" + auto_tags_markdown(report["tags"]) if "tags" in report else "")
    )


def ocr_markdown(o: dict[str, Any]) -> str:
    rows = [
        "| pictures | n | word recall | words read per 100 | gate passes | ms, stopped at the "
        "gate | ms, read |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, r in o["kinds"].items():
        recall = f"{r['word_recall']:.3f}" if r["word_recall"] is not None else "-"
        rows.append(
            f"| {kind.replace('_', ' ')} | {r['pictures']} | {recall} | "
            f"{r['words_read_per_100']} | {r['gate_pass_rate']:.0%} | "
            f"{r['ms_stopped_at_gate'] or '-'} | {r['ms_read'] or '-'} |"
        )
    page, s = o["small_print_page"], o["settings"]
    return (
        "## Text in the picture\n\n"
        f"Word recall on every printed kind: **{o['word_recall_all_printed']:.3f}**; words "
        f"invented per 100 pictures without text: **{o['invented_words_per_100_textless']}**. "
        f"Gate: detection at {s['gate_px']} px, a box of score {s['gate_min_score']} at least "
        f"{s['gate_min_elongation']} times longer than high; lines "
        f"kept from confidence {s['min_confidence']}, at most {s['max_lines']}.\n\n"
        + "\n".join(rows)
        + f"\n\nA page of small print, {page['words_printed']:,} words of 9-px type (read past "
        f"the gate, which a page this fine does not pass at 640 px): {page['s']} s, "
        f"{page['lines_read']} lines read (at most {s['max_lines']}), peak memory "
        f"+{page['peak_rss_growth_mb']} MB over the process's earlier peak.\n"
    )


PARTS = ("ingest", "ocr", "places", "tags")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only",
        choices=PARTS,
        action="append",
        help="redo this part, keep the others' results (repeatable; default: every part)",
    )
    wanted = parser.parse_args().only or list(PARTS)
    kept = RESULTS / "enrich.json"
    report: dict[str, Any] = json.loads(kept.read_text()) if kept.exists() else {}
    report["machine"] = f"{platform.machine()}, {os.cpu_count()} cores"
    if "ingest" in wanted:
        report["ingest"] = ingest()
    if "ocr" in wanted:
        report["ocr"] = ocr()
    if "places" in wanted:
        towns = [
            {**t, "latitude": float(t["latitude"]), "longitude": float(t["longitude"])}
            for t in reverse_geocode.GeocodeData()._locations
        ]
        report["places"] = places(towns)
    if "tags" in wanted:
        report["tags"] = auto_tags()
    save_results("enrich", report, markdown(report))


if __name__ == "__main__":
    main()
