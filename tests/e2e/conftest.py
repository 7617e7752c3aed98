"""The page's browser (Debian's headless chromium, driven by Playwright) and a page on the
test stack's nginx."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from imagesearch_dev.localstack import Stack

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


# per module: a running Playwright keeps an event loop in this thread, which the unit tests'
# own asyncio.run() calls (run after the end-to-end ones) must not find
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is missing: make setup installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, full_stack: Stack) -> Iterator[Page]:
    context = browser.new_context(
        base_url=full_stack.settings.url("nginx"), viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    yield page
    context.close()
