"""`make bench-tracing`: what traces cost the ingest, as a ratio in one run: the same 384 2 MP
JPEGs through the default config end to end (bench-embed's run), with traces on as shipped
(spans made, none exported) and with `telemetry.traces: false` in every service, alternated.
Writes tests/bench/results/tracing.{json,md}."""

import platform
from typing import Any

from imagesearch_dev.clip_builder import build_random, vit_b32_config
from tests.bench.embed import NEW_DEFAULT, VIT_B32, bench_e2e
from tests.bench.report import save_results

IMAGES = 384
OFF = {f"{s}__TELEMETRY__TRACES": "false" for s in ("INGESTAPI", "INGESTWORKER")}


def main() -> None:
    if not (VIT_B32 / "model.safetensors").exists():
        build_random(VIT_B32, vit_b32_config())
    runs: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
    for mode in ("off", "on", "off", "on"):
        print(f"traces {mode}", flush=True)
        runs[mode].append(bench_e2e(VIT_B32, IMAGES, NEW_DEFAULT, 32, OFF if mode == "off" else {}))
    rate = {m: sum(r["images_per_s"] for r in rs) / len(rs) for m, rs in runs.items()}
    cpu = {
        m: sum(sum(r["cpu_ms_per_image"].values()) for r in rs) / len(rs) for m, rs in runs.items()
    }
    report = {
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "images": IMAGES,
        "runs": runs,
        "images_per_s": {m: round(v, 2) for m, v in rate.items()},
        "cpu_ms_per_image": {m: round(v, 1) for m, v in cpu.items()},
        "on_over_off": round(rate["on"] / rate["off"], 3),
    }
    lines = [
        "# What traces cost the ingest (`make bench-tracing`)",
        "",
        f"{IMAGES} 2 MP JPEGs, 32 a request, the default config (bench-embed's end-to-end run), "
        "twice each, alternated: traces on as shipped (spans made, none exported) and off.",
        "",
        "| traces | img/s (each run) | mean img/s | total CPU ms/img |",
        "|---|---|---|---|",
    ]
    for mode in ("off", "on"):
        each = ", ".join(str(r["images_per_s"]) for r in runs[mode])
        lines.append(f"| {mode} | {each} | {rate[mode]:.2f} | {cpu[mode]:.1f} |")
    lines += ["", f"On / off: **{report['on_over_off']}**."]
    save_results("tracing", report, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
