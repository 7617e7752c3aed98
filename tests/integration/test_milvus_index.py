import numpy as np
import pytest

from imagesearch_dev.localstack import Stack
from shared.errors import ConfigMismatch
from shared.vectors import ImageRecord, LiveIndex, MilvusVectorIndex, collection_name
from tests.support.stack import milvus_settings


def record(image_id: str, vector: list[float], name: str = "f.png") -> ImageRecord:
    return ImageRecord(image_id, vector, name, "image/png", 10, 20, 300, 1_700_000_000)


def unit(v: list[float]) -> list[float]:
    return list(np.asarray(v) / np.linalg.norm(v))


def test_upsert_then_search_ranks_by_cosine(infra: Stack) -> None:
    index = MilvusVectorIndex.connect(milvus_settings(infra), "org/model-a", 4)
    index.ensure_collection()
    index.upsert(
        [
            record("a" * 64, unit([1, 0, 0, 0]), "a.png"),
            record("b" * 64, unit([1, 1, 0, 0]), "b.png"),
            record("c" * 64, unit([0, 0, 1, 0]), "c.png"),
        ]
    )
    hits = index.search(unit([1, 0.1, 0, 0]), limit=3)
    assert [h.id for h in hits] == ["a" * 64, "b" * 64, "c" * 64]
    assert hits[0].score == pytest.approx(0.995, abs=1e-3)
    assert hits[0].fields["filename"] == "a.png"
    assert hits[0].fields["width"] == 10
    got = index.get(["b" * 64, "z" * 64])
    assert set(got) == {"b" * 64}
    assert got["b" * 64]["filename"] == "b.png"


def test_upsert_replaces_a_row_with_the_same_id(infra: Stack) -> None:
    index = MilvusVectorIndex.connect(milvus_settings(infra), "org/model-a", 4)
    index.ensure_collection()
    index.upsert([record("a" * 64, unit([1, 0, 0, 0]), "old.png")])
    index.upsert([record("a" * 64, unit([0, 1, 0, 0]), "new.png")])
    assert index.count() == 1
    assert index.get(["a" * 64])["a" * 64]["filename"] == "new.png"


def test_delete_and_edit_reach_the_live_and_the_next_models_collection(infra: Stack) -> None:
    """A reindex fills the next model's collection while this one is live: a delete or an
    edit meanwhile must hold there too, or the switch would undo it."""
    settings = milvus_settings(infra)
    live = MilvusVectorIndex.connect(settings, "org/live", 4)
    live.attach()
    building = MilvusVectorIndex.connect(settings, "org/next", 4)
    building.ensure_collection()
    a, b = "a" * 64, "b" * 64
    for index in (live, building):
        first = ImageRecord(
            a, unit([1, 0, 0, 0]), "a.png", "image/png", 10, 20, 300, 1, phash="00ff", dup_of=b
        )
        index.upsert([first, record(b, unit([0, 1, 0, 0]))])
    library = LiveIndex.connect(settings)

    after = library.edit(a, caption="a café ☕", tags=["x" * 100, "sea"])
    assert after is not None
    assert (after["caption"], after["tags"]) == ("a café ☕", ["x" * 100, "sea"])
    assert after["filename"] == "a.png"
    for index in (live, building):
        assert index.get([a])[a]["caption"] == "a café ☕"
        assert index.get([a])[a]["dup_of"] == b  # what the worker filed stays
        assert index.vector_of(a) == pytest.approx(unit([1, 0, 0, 0]), abs=1e-6)
    assert library.edit("c" * 64, caption="none", tags=None) is None

    library.delete([a, "c" * 64])
    for index in (live, building):
        assert set(index.get([a, b])) == {b}
    assert set(library.get([a, b])) == {b}
    live.delete([b])
    assert live.count() == 0


def test_a_service_of_another_model_refuses_the_live_index(infra: Stack) -> None:
    settings = milvus_settings(infra)
    first = MilvusVectorIndex.connect(settings, "org-one/clip", 4)
    first.attach()  # an empty Milvus: the first service's collection goes live
    other = MilvusVectorIndex.connect(settings, "org-two/clip", 4)
    assert other.collection != first.collection
    with pytest.raises(ConfigMismatch, match="org-one/clip") as exc:
        other.attach()
    assert "reindex" in exc.value.detail
    same = MilvusVectorIndex.connect(settings, "org-one/clip", 4)
    same.attach()  # the same model attaches to the live collection


def test_collection_names_carry_the_model_and_never_collide() -> None:
    a, b = collection_name("images", "org-one/clip"), collection_name("images", "org-two/clip")
    assert a.startswith("images__clip__") and b.startswith("images__clip__")
    assert a != b
