"""The shipped vocabulary of auto-tags (vocabulary.txt): each tag and the prompts its text
vector is made from."""

import hashlib
import importlib.resources
from dataclasses import dataclass

# a tag without prompts of its own is scored by the average of these
DEFAULT_PROMPTS = ("a photo of a {tag}.", "{tag}")


@dataclass(frozen=True)
class Concept:
    tag: str
    prompts: tuple[str, ...]


def parse_vocabulary(text: str) -> list[Concept]:
    """``tag`` or ``tag = prompt | prompt`` per line; ``#`` comments and blank lines skipped."""
    concepts: dict[str, Concept] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        tag, _, given = (part.strip() for part in line.partition("="))
        prompts = tuple(p.strip() for p in given.split("|") if p.strip())
        if not tag or (given and not prompts):
            raise ValueError(f"vocabulary line {number}: {raw.strip()!r} names no tag or prompt")
        if tag in concepts:
            raise ValueError(f"vocabulary line {number}: {tag!r} is listed twice")
        concepts[tag] = Concept(tag, prompts or tuple(p.format(tag=tag) for p in DEFAULT_PROMPTS))
    return list(concepts.values())


def shipped_vocabulary() -> list[Concept]:
    text = importlib.resources.files(__package__).joinpath("vocabulary.txt").read_text()
    return parse_vocabulary(text)


def vocabulary_digest(concepts: list[Concept]) -> str:
    """What a calibration was made for: the tags and their prompts."""
    spelled = "\n".join(f"{c.tag}={'|'.join(c.prompts)}" for c in concepts)
    return hashlib.sha256(spelled.encode()).hexdigest()[:16]
