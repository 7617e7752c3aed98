"""Auto-tags: the vocabulary, each tag's threshold calibrated per model on labelled pictures
(held-out precision), scoring the stored vector, and tags the user took away staying away."""

import os
from pathlib import Path

import numpy as np
import pytest

from ingestworker.enrichers import EnrichTarget, TagEnricher
from ingestworker.enrichers.tag_calibration import (
    CALIBRATION_FILE,
    TagCalibration,
    calibrate,
    calibration_path,
)
from ingestworker.enrichers.tags import TagSettings
from ingestworker.enrichers.vocabulary import (
    parse_vocabulary,
    shipped_vocabulary,
    vocabulary_digest,
)
from ingestworker.service.tag_calibrating import read_labelled_folder
from shared.enrichment import EnrichmentState, carried_facts
from tests.support.paths import MODEL_DIR

DIM = 8


def test_the_shipped_vocabulary_holds_a_few_hundred_everyday_tags() -> None:
    concepts = shipped_vocabulary()
    tags = [c.tag for c in concepts]
    assert 300 <= len(tags) <= 400 and len(set(tags)) == len(tags)
    assert {"dog", "beach", "receipt", "sunset", "car"} <= set(tags)
    assert all(c.prompts and all(p.strip() for p in c.prompts) for c in concepts)


def test_a_vocabulary_line_gives_its_own_prompts_or_gets_the_default_ones() -> None:
    concepts = parse_vocabulary("# comment\n\ndog\nsea = the sea | waves  # why\n")
    assert [(c.tag, c.prompts) for c in concepts] == [
        ("dog", ("a photo of a dog.", "dog")),
        ("sea", ("the sea", "waves")),
    ]
    assert vocabulary_digest(concepts) != vocabulary_digest(concepts[:1])
    for bad in ("dog\ndog", "= a prompt", "sea = | "):
        with pytest.raises(ValueError, match="vocabulary line"):
            parse_vocabulary(bad)


def labelled(seed: int = 0) -> tuple[np.ndarray, list[frozenset[str]], np.ndarray]:
    """400 pictures: 'sharp' pictures point along axis 0 (a clean tag), 'vague' ones hardly
    differ from the rest, 'rare' has 4; tag vectors along axes 0, 1, 2."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(0, 1, (400, DIM)).astype(np.float32)
    labels: list[frozenset[str]] = []
    for i in range(400):
        found = set()
        if i % 4 == 0:
            vectors[i, 0] += 6
            found.add("sharp")
        if i % 5 == 0:
            vectors[i, 1] += 0.05
            found.add("vague")
        if i < 4:
            found.add("rare")
        labels.append(frozenset(found))
    return vectors, labels, np.eye(DIM, dtype=np.float32)[:3]


def test_a_tag_is_calibrated_to_the_precision_asked_on_pictures_it_was_not_fitted_on() -> None:
    vectors, labels, tag_vectors = labelled()
    tags, left_out = calibrate(vectors, labels, ["sharp", "vague", "rare"], tag_vectors, 0.9)
    assert [t.tag for t in tags] == ["sharp"]
    assert tags[0].precision >= 0.9 and tags[0].recall > 0.6
    assert 40 <= tags[0].positives <= 60  # the held-out half's
    reasons = {t.tag: t.reason for t in left_out}
    assert "right" in reasons["vague"]  # no score is right 90 % of the time
    assert "fewer than 10" in reasons["rare"]


def calibration(tmp_path: Path, **kwargs: object) -> Path:
    vectors, labels, tag_vectors = labelled()
    tags, left_out = calibrate(vectors, labels, ["sharp", "vague", "rare"], tag_vectors, 0.9)
    tmp_path.mkdir(parents=True, exist_ok=True)
    made = TagCalibration(
        model=str(tmp_path),
        vocabulary=str(kwargs.get("vocabulary", vocabulary_digest(shipped_vocabulary()))),
        target_precision=0.9,
        made_on="test pictures",
        tags=tags,
        left_out=left_out,
    )
    made.save(calibration_path(str(tmp_path), tmp_path / "elsewhere"))
    return tmp_path


def test_a_calibration_round_trips_and_scores_a_vector_by_its_own_thresholds(
    tmp_path: Path,
) -> None:
    folder = calibration(tmp_path)
    loaded = TagCalibration.load(folder / CALIBRATION_FILE)
    assert [t.tag for t in loaded.tags] == ["sharp"]
    along = [1.0] + [0.0] * (DIM - 1)
    assert loaded.tags_for(along, limit=5) == ["sharp"]
    assert loaded.tags_for([-x for x in along], limit=5) == []
    with pytest.raises(ValueError, match="4-d image vector"):
        loaded.tags_for([1.0, 0, 0, 0], limit=5)


def test_a_model_not_in_a_folder_has_its_calibration_named_after_it(tmp_path: Path) -> None:
    assert (
        calibration_path("laion/CLIP-ViT-B-32", tmp_path) == tmp_path / "laion--CLIP-ViT-B-32.json"
    )
    assert calibration_path(str(tmp_path), Path("x")) == tmp_path / CALIBRATION_FILE


def target(vector: list[float], **fields: object) -> EnrichTarget:
    return EnrichTarget("a" * 64, {"vector": vector, **fields})


def test_the_enricher_tags_from_the_stored_vector_and_never_gives_a_removed_tag(
    tmp_path: Path,
) -> None:
    enricher = TagEnricher(str(calibration(tmp_path)), TagSettings())
    sharp = [1.0] + [0.0] * (DIM - 1)
    outcome = enricher(target(sharp))
    assert (outcome.state, outcome.fields) == (EnrichmentState.done, {"auto_tags": ["sharp"]})
    removed = enricher(target(sharp, removed_auto_tags=["sharp"]))
    assert (removed.state, removed.fields) == (EnrichmentState.done, {"auto_tags": []})
    assert enricher(target([])).state == EnrichmentState.failed


def test_without_a_calibration_that_fits_tags_are_skipped_and_say_why(tmp_path: Path) -> None:
    missing = TagEnricher("laion/CLIP-ViT-B-32", TagSettings(calibrations=tmp_path))(target([1.0]))
    assert missing.state == EnrichmentState.skipped
    assert "calibrate-tags" in missing.reason and "laion--CLIP-ViT-B-32.json" in missing.reason
    other = calibration(tmp_path / "other", vocabulary="0123456789abcdef")
    stale = TagEnricher(str(other), TagSettings())(target([1.0]))
    assert stale.state == EnrichmentState.skipped and "another vocabulary" in stale.reason
    off = TagEnricher(str(other), TagSettings(enabled=False))(target([1.0]))
    assert off.state == EnrichmentState.skipped and "turned off" in off.reason


def test_tags_taken_away_stay_out_of_what_a_reindex_carries() -> None:
    facts = {"auto_tags": ["dog", "beach"], "removed_auto_tags": ["dog"], "vector": [1.0]}
    assert carried_facts(facts) == {"auto_tags": ["beach"], "removed_auto_tags": ["dog"]}


def test_a_picture_in_two_tags_folders_is_one_picture_with_both(tmp_path: Path) -> None:
    for folder in ("dog", "beach", "other"):
        (tmp_path / folder).mkdir()
    (tmp_path / "dog" / "a.png").write_bytes(b"picture a")
    os.link(tmp_path / "dog" / "a.png", tmp_path / "beach" / "a.png")
    (tmp_path / "beach" / "b.png").write_bytes(b"picture b")
    (tmp_path / "other" / "c.png").write_bytes(b"picture c")
    found = read_labelled_folder(tmp_path, ["dog", "beach", "cat"])
    by_name = {p.name: labels for p, labels in zip(found.pictures, found.labels, strict=True)}
    assert by_name == {
        "a.png": frozenset({"dog", "beach"}),
        "b.png": frozenset({"beach"}),
        "c.png": frozenset(),
    }
    assert found.unknown == ["other"]


def test_the_offline_models_calibration_is_for_the_shipped_vocabulary() -> None:
    shipped = TagCalibration.load(MODEL_DIR / CALIBRATION_FILE)
    assert shipped.vocabulary == vocabulary_digest(shipped_vocabulary()), (
        "vocabulary.txt changed: run make calibrate-tags-offline"
    )
    assert shipped.tags and all(t.precision >= shipped.target_precision for t in shipped.tags)
