"""`make screenshots`: the README's pictures of the page, taken from the demo's own flow on the
running stack (run `make demo` first): the timeline of what the demo ingested, a search, and
the lightbox of its best result. Written to frontend/screenshots/."""

import argparse
import shutil
import sys
import time
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from imagesearch_dev.demo import SAMPLES
from imagesearch_dev.localstack.settings import StackSettings

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "frontend" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1280, "height": 800}
THUMBNAILS_LOADED = "[...document.querySelectorAll('#results img')].every(i => i.complete)"


def holds(page: Page, expression: str, timeout_s: float = 30) -> None:
    """Polls a JavaScript expression from outside the page (its CSP forbids the string
    evaluation inside it that wait_for_function needs)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the page never held {expression}")
        time.sleep(0.1)


def take(page: Page, query: str, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    page.goto("/")
    cards = page.locator("#results li")
    expect(cards.first).to_be_visible(timeout=30_000)
    page.wait_for_load_state("networkidle")
    holds(page, THUMBNAILS_LOADED)
    shots = [out / "timeline.png", out / "search.png", out / "lightbox.png"]
    page.screenshot(path=str(shots[0]))
    page.fill("#query", query)
    page.press("#query", "Enter")
    expect(page.locator("#status")).to_contain_text(f"for “{query}”")
    page.wait_for_load_state("networkidle")
    holds(page, THUMBNAILS_LOADED)
    page.screenshot(path=str(shots[1]))
    cards.first.locator(".open").click()
    expect(page.locator("#lightbox")).to_be_visible()
    holds(page, "document.getElementById('lightbox-image').naturalWidth > 0")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(shots[2]))
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="screenshots", description=__doc__)
    parser.add_argument("--url", default=StackSettings().url("nginx"), help="the stack's page")
    parser.add_argument("--query", default=SAMPLES[3].caption.split(" on ")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print("chromium is missing: make setup installs it", file=sys.stderr)
        return 2
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(base_url=args.url, viewport=VIEWPORT)  # type: ignore[arg-type]
        for shot in take(context.new_page(), args.query, args.out):
            print(f"  {shot.relative_to(ROOT) if shot.is_relative_to(ROOT) else shot}")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
