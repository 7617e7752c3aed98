from collections.abc import Iterator

from shared.ids import is_content_id
from shared.storage import ObjectStore

ORIGINALS = "originals/"


def stored_ids(store: ObjectStore) -> list[str]:
    """The ids of every stored original: the truth of what was accepted."""
    ids = (key.removeprefix(ORIGINALS) for key in store.list_keys(ORIGINALS))
    return [image_id for image_id in ids if is_content_id(image_id)]


def chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
