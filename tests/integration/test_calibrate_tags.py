"""`calibrate-tags` with the offline model on a labelled folder of its scenes, as an operator
runs it: a calibration the enrichment can read, every tag either calibrated to the precision
asked (on held-out pictures) or left out with the reason; a corrupt picture and a folder of no
tag never stop it; bad arguments are refused with a reason."""

import subprocess
import sys
from pathlib import Path

import pytest

from imagesearch_dev.tag_set import write_tag_set
from ingestworker.enrichers.tag_calibration import TagCalibration
from ingestworker.enrichers.vocabulary import shipped_vocabulary, vocabulary_digest
from tests.support.images import image_bytes
from tests.support.paths import MODEL_DIR, ROOT


def calibrate_tags(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "ingestworker.cli.calibrate_tags", *args]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tag-set")
    assert write_tag_set(folder, every=3) == 560
    (folder / "purple" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    (folder / "other").mkdir()
    (folder / "other" / "grey.png").write_bytes(image_bytes((128, 128, 128)))
    return folder


def test_a_labelled_folder_gives_a_calibration_the_enrichment_reads(
    labelled: Path, tmp_path: Path
) -> None:
    out = tmp_path / "calibration.json"
    run = calibrate_tags("--model", str(MODEL_DIR), "--folder", str(labelled), "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert "562 pictures; folders of no tag (negatives): other" in run.stdout
    assert f"unreadable, left out: {labelled / 'purple' / 'broken.png'}" in run.stdout
    calibration = TagCalibration.load(out)
    vocabulary = shipped_vocabulary()
    assert calibration.vocabulary == vocabulary_digest(vocabulary)
    assert calibration.model == str(MODEL_DIR)
    assert len(calibration.tags) + len(calibration.left_out) == len(vocabulary)
    assert all(t.precision >= 0.9 and t.positives > 0 for t in calibration.tags)
    reasons = {t.tag: t.reason for t in calibration.left_out}
    assert "fewer than 10" in reasons["dog"]  # no labelled pictures of dogs here
    assert all(reasons.values())


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--folder", "no/such/folder"], "is not a folder"),
        (["--folder", ".", "--precision", "1.5"], "--precision is a fraction"),
        (["--folder", ".", "--model", "/no/such/model"], "cannot be loaded"),
    ],
)
def test_bad_arguments_are_refused_with_a_reason(args: list[str], says: str) -> None:
    run = calibrate_tags(*args)
    assert run.returncode != 0 and says in run.stderr
