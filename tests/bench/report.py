"""Where a benchmark's results go: tests/bench/results/<name>.json and .md, the table printed."""

import json
from typing import Any

from tests.support.paths import ROOT

RESULTS = ROOT / "tests" / "bench" / "results"


def save_results(name: str, report: dict[str, Any], markdown: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown)
    print(markdown)
