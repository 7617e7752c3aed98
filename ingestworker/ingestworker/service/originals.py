from shared.ids import ORIGINALS_PREFIX, is_content_id
from shared.storage import ObjectStore


def stored_ids(store: ObjectStore) -> list[str]:
    """The ids of every stored original: the truth of what was accepted."""
    ids = (key.removeprefix(ORIGINALS_PREFIX) for key in store.list_keys(ORIGINALS_PREFIX))
    return [image_id for image_id in ids if is_content_id(image_id)]
