"""What the vector adapter promises, on every Milvus lane (see conftest): collections created
and guarded, every index type the lane has, the live switch, range search, every filter
(one-row filters too), VARCHAR limits in bytes, and a reindex while searches run."""

import threading
from collections.abc import Callable
from functools import partial

import numpy as np
import pytest
from pymilvus import MilvusException

from shared.errors import ConfigMismatch, Unavailable
from shared.schemas import MAX_CAPTION_CHARS, MAX_TAG_CHARS, MAX_TAGS
from shared.vectors import (
    ImageFilter,
    ImageRecord,
    IndexCatalog,
    IndexLookup,
    IndexSwitched,
    LiveIndex,
    MilvusVectorIndex,
    collection_name,
    open_client,
)
from shared.vectors.milvus_index import VARCHAR_BYTES
from shared.vectors.row_filter import row_keeps
from tests.conformance.conftest import MilvusLane
from tests.support.polling import eventually

DIM = 16
ROWS = 600
rng = np.random.default_rng(7)
VECTORS = rng.normal(size=(ROWS, DIM)).astype(np.float32)
VECTORS /= np.linalg.norm(VECTORS, axis=1, keepdims=True)


def image_id(i: int) -> str:
    return f"{i:064x}"


def record(i: int, vector: list[float] | None = None, **fields: object) -> ImageRecord:
    values: dict[str, object] = {
        "filename": f"f{i}.jpg",
        "content_type": "image/png" if i % 10 == 0 else "image/jpeg",
        "width": 100 + i,
        "height": 50 + i % 7,
        "bytes": 1000 + i,
        "created_at": 1_700_000_000 + i,
        "taken_at": None if i % 5 == 0 else 1_500_000_000 + 86_400 * i,
        "tags": [f"t{i % 3}", *(["sea"] if i % 4 == 0 else [])],
        "source": "upload" if i % 2 else "url",
        # enrichment's auto-tags: a dynamic field, absent from most rows
        "extra": {"auto_tags": ["dog", *(["beach"] if i % 6 == 3 else [])]} if i % 3 == 0 else {},
        **fields,
    }
    return ImageRecord(image_id(i), vector or VECTORS[i].tolist(), **values)  # type: ignore[arg-type]


def filled(lane: MilvusLane, index_type: str = "FLAT", rows: int = ROWS) -> MilvusVectorIndex:
    params = {
        "FLAT": ({}, {}),
        "IVF_FLAT": ({"nlist": 16}, {"nprobe": 4}),
        "HNSW": ({"M": 8, "efConstruction": 64}, {"ef": 32}),
    }[index_type]
    settings = lane.settings(index_type=index_type, index_params=params[0], search_params=params[1])
    index = MilvusVectorIndex.connect(settings, "org/model-a", DIM)
    index.attach()
    index.upsert([record(i) for i in range(rows)])
    return index


def exact(query: np.ndarray, keep: Callable[[int], bool], limit: int) -> list[str]:
    scores = VECTORS @ query
    order = [i for i in np.argsort(-scores) if keep(int(i))]
    return [image_id(int(i)) for i in order[:limit]]


INDEX_TYPES = ["FLAT", "IVF_FLAT", "HNSW"]


def index_type_of(lane: MilvusLane, index_type: str) -> str:
    if index_type == "HNSW" and not lane.has_hnsw:
        pytest.skip("milvus-lite refuses HNSW (local mode: FLAT, IVF_FLAT, AUTOINDEX)")
    return index_type


def test_upsert_then_search_ranks_by_cosine(milvus: MilvusLane) -> None:
    index = MilvusVectorIndex.connect(milvus.settings(), "org/model-a", 4)
    index.ensure_collection()
    a, b, c = (x * 64 for x in "abc")
    index.upsert(
        [
            ImageRecord(a, [1, 0, 0, 0], "a.png", "image/png", 10, 20, 300, 1),
            ImageRecord(b, [0.7071, 0.7071, 0, 0], "b.png", "image/png", 10, 20, 300, 1),
            ImageRecord(c, [0, 0, 1, 0], "c.png", "image/png", 10, 20, 300, 1),
        ]
    )
    hits = index.search([0.995, 0.0995, 0, 0], limit=3)
    assert [h.id for h in hits] == [a, b, c]
    assert hits[0].score == pytest.approx(0.995, abs=1e-3)
    assert hits[0].fields["filename"] == "a.png"
    assert set(index.get([b, "z" * 64])) == {b}
    index.upsert([ImageRecord(a, [0, 1, 0, 0], "new.png", "image/png", 1, 1, 1, 1)])
    assert index.count() == 3
    assert index.get([a])[a]["filename"] == "new.png"


def test_collections_are_created_once_and_guarded(milvus: MilvusLane) -> None:
    settings = milvus.settings()
    first = MilvusVectorIndex.connect(settings, "org-one/clip", 4)
    first.attach()  # an empty Milvus: the first service's collection goes live
    first.ensure_collection()  # again: checked, not recreated
    other = MilvusVectorIndex.connect(settings, "org-two/clip", 4)
    assert other.collection != first.collection
    with pytest.raises(ConfigMismatch, match="org-one/clip") as exc:
        other.attach()
    assert "reindex" in exc.value.detail
    # the same collection name with another dimension: refused before any write
    wider = MilvusVectorIndex.connect(settings, "org-one/clip", 8)
    with pytest.raises(ConfigMismatch, match="dim 4"):
        wider.ensure_collection()
    MilvusVectorIndex.connect(settings, "org-one/clip", 4).attach()


@pytest.mark.parametrize("index_type", INDEX_TYPES)
def test_every_index_type_finds_the_nearest_and_one_row_filters(
    milvus: MilvusLane, index_type: str
) -> None:
    index = filled(milvus, index_type_of(milvus, index_type))
    for i in (3, 250, 599):
        assert index.search(VECTORS[i].tolist(), limit=1)[0].id == image_id(i)
    # a filter that keeps one row: a graph or cluster index alone may miss it
    for i in (11, 407):
        only = ImageFilter(created_from=1_700_000_000 + i, created_to=1_700_000_000 + i)
        query = VECTORS[(i + 1) % ROWS]
        hits = index.search(query.tolist(), limit=10, where=only)
        assert [h.id for h in hits] == [image_id(i)]
        assert hits[0].fields["filename"] == f"f{i}.jpg"
        assert hits[0].score == pytest.approx(float(VECTORS[i] @ query), abs=1e-4)
    # a filter that keeps nothing
    assert index.search(VECTORS[0].tolist(), 10, ImageFilter(source="nowhere")) == []


def test_hnsw_is_refused_clearly_where_the_server_lacks_it(milvus: MilvusLane) -> None:
    if milvus.has_hnsw:
        pytest.skip("this server has HNSW")
    settings = milvus.settings(index_type="HNSW", index_params={"M": 8, "efConstruction": 64})
    with pytest.raises(Unavailable, match="HNSW"):
        MilvusVectorIndex.connect(settings, "org/model-a", DIM).ensure_collection()


@pytest.mark.parametrize("index_type", INDEX_TYPES)
def test_min_score_is_a_range_search(milvus: MilvusLane, index_type: str) -> None:
    index = filled(milvus, index_type_of(milvus, index_type))
    query = VECTORS[42]
    scores = VECTORS @ query
    for threshold in (0.99, 0.5, 0.3):
        hits = index.search(query.tolist(), limit=ROWS, min_score=threshold)
        assert all(h.score > threshold for h in hits)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        expected = {image_id(int(i)) for i in np.flatnonzero(scores > threshold + 1e-4)}
        got = {h.id for h in hits}
        if index_type == "FLAT":
            assert expected <= got
        else:  # approximate: most of them
            assert len(expected & got) >= 0.8 * len(expected)
    assert [h.id for h in index.search(query.tolist(), 5, min_score=0.99)] == [image_id(42)]
    # a range search with a filter keeping a few rows: exact
    few = ImageFilter(created_from=1_700_000_040, created_to=1_700_000_049)
    hits = index.search(query.tolist(), 10, few, min_score=0.0)
    kept = [i for i in range(40, 50) if scores[i] > 0.0]
    assert sorted(h.id for h in hits) == sorted(image_id(i) for i in kept)


FILTERS: list[tuple[ImageFilter, Callable[[int], bool]]] = [
    (ImageFilter(taken_from=1_500_000_000 + 86_400 * 100), lambda i: i % 5 != 0 and i >= 100),
    (ImageFilter(taken_to=1_500_000_000 + 86_400 * 30), lambda i: i % 5 != 0 and i <= 30),
    (
        ImageFilter(created_from=1_700_000_010, created_to=1_700_000_020),
        lambda i: 10 <= i <= 20,
    ),
    (ImageFilter(tags=("sea",)), lambda i: i % 4 == 0),
    (ImageFilter(tags=("t1", "sea")), lambda i: i % 3 == 1 or i % 4 == 0),
    (ImageFilter(tags=("t0", "sea"), tags_mode="all"), lambda i: i % 12 == 0),
    (ImageFilter(content_types=("image/png",)), lambda i: i % 10 == 0),
    (ImageFilter(min_width=650), lambda i: 100 + i >= 650),
    (ImageFilter(min_height=56), lambda i: 50 + i % 7 >= 56),
    (ImageFilter(source="url"), lambda i: i % 2 == 0),
    (ImageFilter(exclude_ids=(image_id(0), image_id(1))), lambda i: i > 1),
    (
        ImageFilter(tags=("sea",), content_types=("image/png",), min_width=300),
        lambda i: i % 20 == 0 and i >= 200,
    ),
    (ImageFilter(tags=('t"1',)), lambda i: False),  # a quote in a value stays a value
    (ImageFilter(auto_tags=("dog",)), lambda i: i % 3 == 0),
    (ImageFilter(auto_tags=("beach", "dog"), tags_mode="all"), lambda i: i % 6 == 3),
    (ImageFilter(auto_tags=("beach", "cat")), lambda i: i % 6 == 3),
    (ImageFilter(auto_tags=('d"og',)), lambda i: False),
]


@pytest.mark.parametrize("index_type", INDEX_TYPES)
def test_every_filter_keeps_what_it_says(milvus: MilvusLane, index_type: str) -> None:
    index = filled(milvus, index_type_of(milvus, index_type))
    query = VECTORS[5]
    for where, keep in FILTERS:
        want = exact(query, keep, 20)
        hits = index.search(query.tolist(), 20, where)
        got = [h.id for h in hits]
        if index_type == "FLAT" or len(want) < 20:
            assert got == want, where
        else:  # approximate: every hit passes the filter, most of the true top 20
            assert all(keep(int(h, 16)) for h in got), where
            assert len(set(got) & set(want)) >= 14, where


def test_a_filter_applied_to_a_row_in_python_keeps_what_milvus_keeps(milvus: MilvusLane) -> None:
    """shared.vectors.row_filter (matching a new image without asking the index) against
    Milvus's own answer, on every filter case and a few more."""
    index = filled(milvus)
    rows = index.get([image_id(i) for i in range(ROWS)])
    assert len(rows) == ROWS
    cases = [where for where, _ in FILTERS] + [
        ImageFilter(),
        ImageFilter(taken_from=1_500_000_000, source="upload", tags_mode="all", tags=("t1",)),
        ImageFilter(place="nowhere"),
    ]
    for where in cases:
        kept = {str(r["id"]) for r in index.rows(where, ["id"], ROWS + 1)}
        assert {i for i, row in rows.items() if row_keeps(where, i, row)} == kept, where


def test_the_live_switch_is_an_alias_where_the_server_has_them(milvus: MilvusLane) -> None:
    settings = milvus.settings()
    live = MilvusVectorIndex.connect(settings, "org/live", 4)
    live.attach()
    nxt = MilvusVectorIndex.connect(settings, "org/next", 8)
    nxt.ensure_collection()
    nxt.activate()
    catalog = IndexCatalog(open_client(settings), settings.collection_prefix)
    assert catalog.has_aliases() is milvus.has_aliases
    active = catalog.active()
    assert active is not None
    assert (active.collection, active.model, active.dim) == (nxt.collection, "org/next", 8)
    client = open_client(settings)
    if milvus.has_aliases:
        assert client.describe_alias(catalog.alias)["collection_name"] == nxt.collection
        live.activate()  # and back: the alias moves
        assert client.describe_alias(catalog.alias)["collection_name"] == live.collection
        assert catalog.active().collection == live.collection  # type: ignore[union-attr]


def test_varchar_limits_hold_in_bytes(milvus: MilvusLane) -> None:
    index = MilvusVectorIndex.connect(milvus.settings(), "org/model-a", 4)
    index.attach()
    four_bytes = "😀"
    hostile = ImageRecord(
        image_id(1),
        [1, 0, 0, 0],
        filename="é" * 1000,  # 2000 bytes, limit 1024
        content_type="image/" + "x" * 100,
        width=1,
        height=1,
        bytes=1,
        created_at=1,
        camera="日本" * 200,  # 1200 bytes, limit 256
        caption=four_bytes * MAX_CAPTION_CHARS,  # the longest caption the API takes
        tags=[four_bytes * MAX_TAG_CHARS] * (MAX_TAGS + 5),
        source="u" * 2000,
    )
    index.upsert([hostile])
    row = index.get([hostile.id])[hostile.id]
    assert row["caption"] == hostile.caption  # the API's limit fits, whole
    assert row["tags"] == [four_bytes * MAX_TAG_CHARS] * MAX_TAGS
    for name in ("filename", "camera", "content_type", "source"):
        value = str(row[name])
        assert len(value.encode()) <= VARCHAR_BYTES[name], name
        assert str(getattr(hostile, name)).startswith(value) and value, name
    assert row["filename"] == "é" * 512
    if milvus.counts_varchar_bytes:  # what the cut saves us from
        client = open_client(milvus.settings())
        with pytest.raises(MilvusException, match="max length"):
            client.upsert(
                index.collection,
                [{**dict(row), "id": image_id(2), "vector": [0, 1, 0, 0], "camera": "日本" * 200}],
            )


def test_reindex_while_searching(milvus: MilvusLane) -> None:
    """Searches on the live index keep answering in full while the next one fills; at the
    switch the old reader stops with IndexSwitched (a clean 503), never with wrong rows."""
    settings = milvus.settings()
    old = MilvusVectorIndex.connect(settings, "org/old", DIM)
    old.attach()
    old.upsert([record(i) for i in range(300)])
    answers: list[int] = []
    switched = threading.Event()
    errors: list[BaseException] = []

    def search_until_switched() -> None:
        reader = MilvusVectorIndex.connect(settings, "org/old", DIM)
        reader.attach()
        try:
            while True:
                try:
                    answers.append(len(reader.search(VECTORS[len(answers) % 300].tolist(), 10)))
                except IndexSwitched:
                    switched.set()
                    return
        except BaseException as exc:
            errors.append(exc)
            switched.set()

    searcher = threading.Thread(target=search_until_switched, daemon=True)
    searcher.start()
    new = MilvusVectorIndex.connect(settings, "org/new", DIM)
    new.ensure_collection()
    for start in range(0, ROWS, 100):
        new.upsert([record(i) for i in range(start, start + 100)])
    eventually(lambda: len(answers) >= 20, 60, "searches during the fill")
    new.activate()
    eventually(switched.is_set, 30, "the live reader noticing the switch")
    searcher.join(timeout=10)
    assert not errors, errors
    assert answers and set(answers) == {10}
    fresh = MilvusVectorIndex.connect(settings, "org/new", DIM)
    fresh.attach()
    eventually(lambda: fresh.count() == ROWS, 10, "every row of the new index")
    assert fresh.search(VECTORS[555].tolist(), 1)[0].id == image_id(555)
    library = LiveIndex.connect(settings)
    assert library.live_collection() == collection_name(settings.collection_prefix, "org/new")


def test_delete_and_edit_reach_the_live_and_the_next_models_collection(
    milvus: MilvusLane,
) -> None:
    """A reindex fills the next model's collection while this one is live: a delete or an
    edit meanwhile must hold there too, or the switch would undo it."""
    settings = milvus.settings()
    live = MilvusVectorIndex.connect(settings, "org/live", 4)
    live.attach()
    building = MilvusVectorIndex.connect(settings, "org/next", 4)
    building.ensure_collection()
    a, b = "a" * 64, "b" * 64
    for index in (live, building):
        first = ImageRecord(a, [1, 0, 0, 0], "a.png", "image/png", 10, 20, 300, 1, dup_of=b)
        index.upsert([first, ImageRecord(b, [0, 1, 0, 0], "b.png", "image/png", 1, 1, 1, 1)])
    library = LiveIndex.connect(settings)

    after = library.edit(a, caption="a café ☕", tags=["x" * 100, "sea"])
    assert after is not None
    assert (after["caption"], after["tags"]) == ("a café ☕", ["x" * 100, "sea"])
    assert after["filename"] == "a.png"
    for index in (live, building):
        # another client's write: a Milvus server shows it within its time tick
        row = eventually(partial(edited, index, a), 10, "the edit everywhere")
        assert row["dup_of"] == b  # what the worker filed stays
        assert index.vector_of(a) == pytest.approx([1, 0, 0, 0], abs=1e-6)
    assert library.edit("c" * 64, caption="none", tags=None) is None

    library.delete([a, "c" * 64])
    # a Milvus server applies a delete within its time tick, to its own client too
    for reader in (library, live, building):
        eventually(partial(holds_only, reader, [a, b], {b}), 10, "the delete everywhere")
    live.delete([b])
    eventually(lambda: live.count() == 0, 10, "an empty collection")


def edited(index: IndexLookup, image: str) -> dict[str, object] | None:
    row = index.get([image])[image]
    return row if row["caption"] == "a café ☕" else None


def holds_only(index: IndexLookup, asked: list[str], present: set[str]) -> bool:
    return set(index.get(asked)) == present


def test_collection_names_carry_the_model_and_never_collide() -> None:
    a, b = collection_name("images", "org-one/clip"), collection_name("images", "org-two/clip")
    assert a.startswith("images__clip__") and b.startswith("images__clip__")
    assert a != b


KEYWORD_ROWS = [
    ("IMG_2041.jpg", "a red car at night", ["street"]),
    ("IMG_2042.jpg", "sunset over the sea", ["beach", "New York"]),
    ("HolidayPark2019.png", "a dog on the grass", ["dog"]),
    ("DSC_0001.jpg", "a red barn in a green field", []),
]


def keyword_index(lane: MilvusLane) -> MilvusVectorIndex:
    index = MilvusVectorIndex.connect(lane.settings(), "org/model-a", DIM)
    index.attach()
    index.upsert(
        [
            record(i, filename=name, caption=caption, tags=tags)
            for i, (name, caption, tags) in enumerate(KEYWORD_ROWS)
        ]
    )
    return index


def test_a_server_without_bm25_gets_a_collection_without_a_keyword_side(
    milvus: MilvusLane,
) -> None:
    index = keyword_index(milvus)
    assert index.has_keywords == milvus.has_bm25
    # meaning works either way, and a keyword search on a server without BM25 finds nothing
    assert index.search(VECTORS[1].tolist(), 1)[0].id == image_id(1)
    if not milvus.has_bm25:
        assert index.keyword_search(["file:img_2041"], 5) == []


def test_bm25_ranks_an_exact_file_name_first_and_heeds_filters(milvus: MilvusLane) -> None:
    if not milvus.has_bm25:
        pytest.skip(f"Milvus {milvus.version} has no BM25 (2.5 and newer have it)")
    index = keyword_index(milvus)
    hits = index.keyword_search(["file:img_2042.jpg", "caption:img_2042.jpg"], 5)
    assert [h.id for h in hits] == [image_id(1)]
    assert hits[0].fields["filename"] == "IMG_2042.jpg" and hits[0].score > 0
    by_part = index.keyword_search(["file:2019"], 5)
    assert [h.id for h in by_part] == [image_id(2)]
    red = index.keyword_search(["caption:red"], 5)
    assert {h.id for h in red} == {image_id(0), image_id(3)}
    # a repeated word weighs more
    once = index.keyword_search(["caption:red"], 5)[0].score
    twice = index.keyword_search(["caption:red", "caption:red"], 5)[0].score
    assert twice == pytest.approx(2 * once, rel=1e-3)
    kept = index.keyword_search(["caption:red"], 5, ImageFilter(exclude_ids=(image_id(0),)))
    assert [h.id for h in kept] == [image_id(3)]
    assert index.keyword_search(["tag:new", "tag:york"], 5)[0].id == image_id(1)
    assert index.keyword_search(["caption:nothing"], 5) == []


def test_an_edit_changes_the_words_an_image_is_found_by(milvus: MilvusLane) -> None:
    if not milvus.has_bm25:
        pytest.skip(f"Milvus {milvus.version} has no BM25 (2.5 and newer have it)")
    index = keyword_index(milvus)
    LiveIndex.connect(milvus.settings(collection_prefix=index.collection.split("__")[0])).edit(
        image_id(2), caption="a cat on a wall", tags=["cat"]
    )

    def found(tokens: list[str]) -> list[str]:
        return [h.id for h in index.keyword_search(tokens, 5)]

    eventually(lambda: found(["tag:cat"]) == [image_id(2)], 10, "the new tag found")
    assert found(["tag:dog"]) == []
    assert found(["file:2019"]) == [image_id(2)]  # the file name is still its own


def test_a_keyword_search_of_an_empty_library_finds_nothing(milvus: MilvusLane) -> None:
    """BM25 over no documents divides by an average length of zero on milvus-lite: a fresh
    library (or one emptied by deletes) must still answer, with nothing."""
    if not milvus.has_bm25:
        pytest.skip(f"Milvus {milvus.version} has no BM25 (2.5 and newer have it)")
    index = MilvusVectorIndex.connect(milvus.settings(), "org/model-a", DIM)
    index.attach()
    assert index.keyword_search(["caption:red"], 5) == []
    index.upsert([record(0, caption="red")])
    assert [h.id for h in index.keyword_search(["caption:red"], 5)] == [image_id(0)]
    index.delete([image_id(0)])
    assert index.keyword_search(["caption:red"], 5) == []


def test_an_image_rewritten_in_place_stays_visible_to_every_read_meanwhile(
    milvus: MilvusLane, request: pytest.FixtureRequest
) -> None:
    """An edit or enrichment's facts rewrite a row (an upsert). A Milvus server swaps the old
    row for the new at one timestamp: a read meanwhile sees one or the other, never neither.
    milvus-lite deletes then inserts, and a read between them misses the image: a known gap
    of the local stack (strict xfail, so a milvus-lite that closes it is noticed)."""
    if milvus.name == "lite":
        reason = "milvus-lite's upsert is a delete then an insert: reads between miss the row"
        request.applymarker(pytest.mark.xfail(reason=reason, strict=True))
    settings = milvus.settings()
    index = MilvusVectorIndex.connect(settings, "org/model-a", DIM)
    index.attach()
    rows = 16
    index.upsert([record(i) for i in range(rows)])
    ids = [image_id(i) for i in range(rows)]
    eventually(lambda: index.count(ids) == rows, 10, "every row")
    library = LiveIndex.connect(settings)
    done = threading.Event()

    def rewrite() -> None:
        n = 0
        while not done.is_set():
            library.update(ids[n % rows], {"place": f"place {n}"})
            n += 1

    writer = threading.Thread(target=rewrite)
    writer.start()
    seen: list[int] = []
    try:
        for _ in range(300):
            seen.append(index.count(ids))
            seen.append(len(index.search(VECTORS[0].tolist(), rows, ImageFilter())))
    finally:
        done.set()
        writer.join(timeout=30)
    assert min(seen) == rows, f"{sum(s < rows for s in seen)} of {len(seen)} reads missed rows"
