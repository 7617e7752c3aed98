"""Text in the picture with the pinned RapidOCR models shipped in the wheel (no network)."""

import io

import pytest
from PIL import Image, ImageDraw, ImageFont

from ingestworker.enrichers import Enriched, EnrichTarget, OcrEnricher
from ingestworker.enrichers.text_reader import ModelChanged, OcrSettings, TextReader
from shared.enrichment import EnrichmentState
from shared.ids import preview_key
from shared.keywords import document, words
from tests.unit.fakes import InMemoryObjectStore


def sign(text: str = "CAFEROMA OPEN 24H", size: int = 56) -> Image.Image:
    image = Image.new("RGB", (1280, 853), (70, 110, 140))
    draw = ImageDraw.Draw(image)
    draw.rectangle((180, 300, 1120, 430), fill=(240, 232, 205))
    draw.text((210, 330), text, font=ImageFont.load_default(size=size), fill=(25, 25, 25))
    return image


def enrich(image: Image.Image, reader: TextReader, **kw: bool) -> Enriched:
    store = InMemoryObjectStore()
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=85)
    store.put(preview_key("a"), buf.getvalue(), "image/jpeg")
    return OcrEnricher(store, reader, **kw)(EnrichTarget("a", {}))


@pytest.fixture(scope="module")
def reader() -> TextReader:
    return TextReader(OcrSettings())


def test_a_sign_is_read_with_where_it_stands(reader: TextReader) -> None:
    outcome = enrich(sign(), reader)
    assert outcome.state == EnrichmentState.done
    fields = outcome.fields
    assert {"caferoma", "open", "24h"} <= set(words(str(fields["text"])))
    lines = fields["ocr"]
    assert isinstance(lines, list)
    [line] = [line for line in lines if "OPEN" in line["text"]]
    x0, y0, x1, y1 = line["box"]
    assert 0.1 < x0 < x1 < 0.9 and 0.3 < y0 < y1 < 0.55  # on the panel
    assert line["confidence"] >= 0.8
    # and the keyword side finds a part of the long word
    assert "text:roma" in document(fields).split()


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_a_turned_picture_is_read(reader: TextReader, turn: int) -> None:
    outcome = enrich(sign().rotate(turn, expand=True), reader)
    assert {"caferoma", "open"} <= set(words(str(outcome.fields["text"])))


def test_a_picture_without_text_stops_at_the_gate(reader: TextReader) -> None:
    plain = Image.radial_gradient("L").resize((1280, 853)).convert("RGB")
    outcome = enrich(plain, reader)
    assert outcome.state == EnrichmentState.skipped
    assert outcome.reason == "no text found"
    assert outcome.fields == {"text": "", "ocr": []}


def test_lines_read_are_bounded() -> None:
    page = Image.new("RGB", (1280, 1280), (250, 250, 245))
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=14)
    for line in range(60):
        draw.text((10, 10 + line * 20), f"line {line} of the small print", font=font, fill=0)
    few = TextReader(OcrSettings(max_lines=20))
    assert len(few.read(page)) <= 20


def test_a_model_file_that_is_not_the_pinned_one_is_refused() -> None:
    changed = TextReader(OcrSettings(det_sha256="0" * 64))
    with pytest.raises(ModelChanged, match="not the pinned"):
        changed.read(sign())


def test_ocr_turned_off_says_so(reader: TextReader) -> None:
    outcome = enrich(sign(), reader, enabled=False)
    assert outcome.state == EnrichmentState.skipped
    assert "turned off" in outcome.reason
