"""Pseudo-queries from what the library already says about its pictures: their captions, the
user's tags, the text read in them, their places and the words of their file names. A query's
answers are the sampled pictures that say the same: a tag's are every picture with the tag.

Auto-tags are left out: the live model gave them, so they would favour it."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from shared.keywords import words

# file names that say nothing of the picture: a camera's or a phone's counter
CAMERA_NAME = re.compile(
    r"^(img|dsc|dscn|dscf|pxl|p|pict|photo|image|screenshot|mvimg|gopr|dji|sam|wp)$"
)
SOURCES = ("caption", "tags", "text", "place", "filename")
MAX_QUERY_CHARS = 200
MAX_QUERIES_PER_SOURCE = 100


@dataclass(frozen=True)
class PseudoQuery:
    text: str
    source: str  # which of SOURCES it was made from
    relevant: frozenset[int]  # the sample's pictures that answer it (their positions)


def pseudo_queries(rows: Sequence[Mapping[str, object]]) -> list[PseudoQuery]:
    """The queries a sample of rows (as the index stores them) gives, each once, at most
    MAX_QUERIES_PER_SOURCE from each source."""
    said: dict[tuple[str, str], set[int]] = {}
    for n, row in enumerate(rows):
        for source, phrase in _phrases(row):
            said.setdefault((source, phrase), set()).add(n)
    queries: list[PseudoQuery] = []
    for source in SOURCES:
        mine = sorted((p, found) for (s, p), found in said.items() if s == source)
        # the most specific first: a phrase fewer pictures say is a harder query
        mine.sort(key=lambda item: len(item[1]))
        for phrase, found in mine[:MAX_QUERIES_PER_SOURCE]:
            if len(found) < len(rows):  # said of every picture: no query at all
                queries.append(PseudoQuery(phrase, source, frozenset(found)))
    return queries


def _phrases(row: Mapping[str, object]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    caption = _text(row.get("caption"))
    if len(words(caption)) >= 2:
        found.append(("caption", caption[:MAX_QUERY_CHARS].lower()))
    tags = row.get("tags")
    for tag in tags if isinstance(tags, list) else []:
        if words(str(tag)):
            found.append(("tags", " ".join(words(str(tag)))))
    for line in _text(row.get("text")).splitlines():
        said = [w for w in words(line) if w.isalpha() and len(w) > 1]
        if len(said) >= 2:
            found.append(("text", " ".join(said)[:MAX_QUERY_CHARS]))
            break  # its first line of words
    city = _text(row.get("city")) or _text(row.get("country"))
    if city:
        found.append(("place", city.lower()))
    name = _filename_phrase(_text(row.get("filename")))
    if name:
        found.append(("filename", name))
    return found


def _filename_phrase(name: str) -> str:
    """The words of a file name that describe (``beach-sunset-2019.jpg`` -> "beach sunset"),
    "" for a camera's counter (``IMG_2041.jpg``)."""
    stem = name.rsplit("/", 1)[-1].rpartition(".")[0] or name
    parts = [w for w in words(stem) if w.isalpha() and len(w) > 2 and not CAMERA_NAME.match(w)]
    return " ".join(parts[:8])


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
