"""The words the keyword side of search knows an image by, and a query's words, made the same
way on both sides: lower case, split at anything that is not a letter or a digit, and a file
name also at letter/digit and camelCase boundaries, keeping the name whole too (``IMG_2041.jpg``
is found by ``IMG_2041.jpg``, ``IMG_2041``, ``img`` and ``2041``). The index is meant to take
these words as they are (a whitespace analyzer), so what matches is decided here, once."""

import re
from collections.abc import Mapping

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The words of a caption, a tag or a query term, in order, lower case, repeats kept."""
    return [w.lower() for w in _WORD.findall(text)]


def filename_words(name: str) -> list[str]:
    """A file's name as the keyword side knows it: the name, its stem, then every part."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not base:
        return []
    stem, dot, extension = base.rpartition(".")
    if not dot or not stem:
        stem, extension = base, ""
    # the whole name and stem only where they are one word to a whitespace analyzer
    found = [w for w in (base.lower(), stem.lower()) if not any(c.isspace() for c in w)]
    for chunk in _WORD.findall(stem):
        found.append(chunk.lower())
        found.extend(part.lower() for part in _parts(chunk))
    if extension:
        found.append(extension.lower())
    return list(dict.fromkeys(w for w in found if any(c.isalnum() for c in w)))


def _parts(chunk: str) -> list[str]:
    """``HolidayBeach2019`` -> Holiday, Beach, 2019; ``IMGFile`` -> IMG, File (any script)."""
    parts: list[str] = []
    start = 0
    for at in range(1, len(chunk)):
        before, here = chunk[at - 1], chunk[at]
        after = chunk[at + 1] if at + 1 < len(chunk) else ""
        if (
            before.isdigit() != here.isdigit()
            or (before.islower() and here.isupper())
            or (before.isupper() and here.isupper() and after.islower())
        ):
            parts.append(chunk[start:at])
            start = at
    parts.append(chunk[start:])
    return parts


# the fields an image is known by on the keyword side, as the index prefixes its words
# (``caption:red``): a query term restricted to a field looks for its prefix only.
# text (written in the picture), place and autotag (the vocabulary's tags, apart from the
# user's) come with the enrichment stages
KEYWORD_FIELDS = ("file", "caption", "tag", "autotag", "text", "place")
# the indexed text is cut here, at a word boundary (Milvus VARCHAR limit, in bytes)
MAX_DOCUMENT_BYTES = 16384


def field_words(fields: Mapping[str, object]) -> dict[str, list[list[str]]]:
    """An image's words by keyword field, as runs (one per tag, one per text) so that a
    phrase matches only words that stand together. ``fields``: the stored row's fields."""
    tags = fields.get("tags") or ()
    auto_tags = fields.get("auto_tags") or ()
    text = str(fields.get("text") or "")
    found = {
        "file": [filename_words(str(fields.get("filename") or ""))],
        "caption": [words(str(fields.get("caption") or ""))],
        "tag": [words(str(tag)) for tag in tags] if isinstance(tags, list | tuple) else [],
        "autotag": (
            [words(str(tag)) for tag in auto_tags] if isinstance(auto_tags, list | tuple) else []
        ),
        "place": [words(str(fields.get("place") or ""))],
        # one run per line read, then the parts of its long words (a sign's "CAFEROMA" is
        # found by "roma"); last, as the first thing a document too long loses
        "text": [*map(words, text.splitlines()), word_parts(words(text))],
    }
    return {name: [run for run in runs if run] for name, runs in found.items()}


# text read from a picture runs words together ("CAFEROMA", "OPEN24H"): words this long are
# also indexed by their parts of PART_CHARS or more (up to MAX_PART_WORD characters)
SPLIT_CHARS = 7
PART_CHARS = 4
MAX_PART_WORD = 24


def word_parts(found: list[str]) -> list[str]:
    """The parts of the long words: every piece of at least PART_CHARS characters, the word
    itself excluded (it is a word already)."""
    parts: dict[str, None] = {}
    for word in found:
        if not SPLIT_CHARS <= len(word) <= MAX_PART_WORD:
            continue
        for size in range(PART_CHARS, len(word)):
            for start in range(len(word) - size + 1):
                parts[word[start : start + size]] = None
    return list(parts)


def document(fields: Mapping[str, object]) -> str:
    """The text the index analyses (by whitespace) for an image: each word with its field."""
    return index_words(field_words(fields))


def index_words(runs_by_field: Mapping[str, list[list[str]]]) -> str:
    """``document`` from the image's words by field (``field_words``)."""
    tokens = [
        f"{name}:{word}" for name, runs in runs_by_field.items() for run in runs for word in run
    ]
    out, size = [], 0
    for token in tokens:
        size += len(token.encode()) + 1
        if size > MAX_DOCUMENT_BYTES:
            break
        out.append(token)
    return " ".join(out)
