"""An image's details object: what the uploader and the worker said about it beyond its bytes
(file name, source, caption, tags, enrichment's facts). It lives next to the original, and a
reindex reads it back: the index can always be rebuilt from storage."""

import json

from shared.errors import NotFound
from shared.ids import details_key, original_key
from shared.storage import ObjectStore

# the original's metadata flag saying a details object exists (one read saved where none does)
HAS_DETAILS = "details"


def read_details(store: ObjectStore, image_id: str) -> dict[str, object]:
    """The details object, {} when there is none or it does not parse."""
    try:
        parsed = json.loads(store.open(details_key(image_id)).read())
    except (NotFound, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def update_details(store: ObjectStore, image_id: str, changes: dict[str, object]) -> None:
    """Set these keys of the details object, keeping the others. Callers hold the image's claim
    (shared.state: Intakes.claim): two updates at once would lose one."""
    flagged = bool(store.stat(original_key(image_id)).metadata.get(HAS_DETAILS))
    details = read_details(store, image_id) if flagged else {}
    details.update(changes)
    store.put(details_key(image_id), json.dumps(details).encode(), "application/json")
    if not flagged:
        store.set_metadata(original_key(image_id), {HAS_DETAILS: "1"})
