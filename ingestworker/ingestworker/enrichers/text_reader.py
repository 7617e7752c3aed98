"""Reading the text in a picture with RapidOCR (PP-OCRv6 detection and recognition, and the
text-line angle model), run by onnxruntime from model files pinned by their SHA-256: a library
upgrade that ships other models stops with the reason instead of silently reading differently.

Two passes. The gate: detection alone on a small copy (a fraction of the cost) says whether
the picture holds a line of text (a long box) at all; most photos hold none, and stop there.
The read: detection and recognition on the preview, at most ``max_lines`` lines, each kept
only when recognised with ``min_confidence`` and holding two different letters or digits.
Text turned a quarter is read too (RapidOCR turns tall lines), upside down by the angle model.
"""

import hashlib
import importlib.resources
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field

# the models rapidocr 3.10.0 ships, and their digests
SHIPPED_MODELS = {
    "det": (
        "PP-OCRv6_det_small.onnx",
        "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f",
    ),
    "rec": (
        "PP-OCRv6_rec_small.onnx",
        "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884",
    ),
    "cls": (
        "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
        "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
    ),
}


class OcrSettings(BaseModel):
    enabled: bool = Field(True, description="read the text in pictures (enrichment)")
    # "" is the file rapidocr ships; a path pins another file (its digest below)
    det_model: str = ""
    rec_model: str = ""
    cls_model: str = ""
    det_sha256: str = SHIPPED_MODELS["det"][1]
    rec_sha256: str = SHIPPED_MODELS["rec"][1]
    cls_sha256: str = SHIPPED_MODELS["cls"][1]
    gate_px: int = Field(640, ge=160, le=2048, description="the gate's copy, long side")
    # measured on make bench-enrich's labelled set: a text line is a long box, a texture's
    # false detections are not; at 0.5 and 1.5 the gate passed 98 % of pictures with text and
    # 13 % of those without
    gate_min_score: float = Field(
        0.5, ge=0, le=1, description="a box the gate's detection is this sure of ..."
    )
    gate_min_elongation: float = Field(
        1.5, ge=1, description="... and this many times longer than high: read the picture"
    )
    min_confidence: float = Field(
        0.85, ge=0, le=1, description="recognised lines less sure than this are dropped"
    )
    max_lines: int = Field(
        300, ge=1, le=5000, description="lines read at most per picture (time and memory)"
    )
    threads: int = Field(0, ge=0, le=64, description="onnxruntime threads; 0: its default")


@dataclass(frozen=True)
class TextLine:
    text: str
    # the line's bounding box as fractions of the picture: x0, y0, x1, y1
    box: tuple[float, float, float, float]
    confidence: float


class ModelChanged(RuntimeError):
    """A pinned model file is not the one its digest names."""


class TextReader:
    """Thread-safe; loads the models on first use."""

    def __init__(self, settings: OcrSettings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._engines: tuple[object, object] | None = None

    def has_text(self, image: Image.Image) -> bool:
        """The gate: detection alone on a small copy."""
        gate, _ = self._load()
        small = image.copy()
        small.thumbnail((self._settings.gate_px, self._settings.gate_px))
        with self._lock:
            found = gate(np.asarray(small.convert("RGB")), use_cls=False, use_rec=False)  # type: ignore[operator]
        boxes, scores = getattr(found, "boxes", None), getattr(found, "scores", None)
        if boxes is None or scores is None:
            return False
        return any(
            score >= self._settings.gate_min_score
            and _elongation(points) >= self._settings.gate_min_elongation
            for points, score in zip(boxes, scores, strict=True)
        )

    def read(self, image: Image.Image) -> list[TextLine]:
        """The lines of text in the picture, best first by position (top to bottom)."""
        _, engine = self._load()
        rgb = image.convert("RGB")
        with self._lock:
            out = engine(np.asarray(rgb))  # type: ignore[operator]
        txts, scores, boxes = (getattr(out, k, None) for k in ("txts", "scores", "boxes"))
        if txts is None or scores is None or boxes is None:
            return []
        width, height = rgb.size
        lines = []
        for text, score, points in zip(txts, scores, boxes, strict=True):
            text = " ".join(str(text).split())
            if score < self._settings.min_confidence or not _says_something(text):
                continue
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            box = (
                _fraction(min(xs), width),
                _fraction(min(ys), height),
                _fraction(max(xs), width),
                _fraction(max(ys), height),
            )
            lines.append(TextLine(text, box, round(float(score), 3)))
        return sorted(lines, key=lambda line: (line.box[1], line.box[0]))

    def _load(self) -> tuple[object, object]:
        with self._lock:
            if self._engines is None:
                self._engines = self._build()
            return self._engines

    def _build(self) -> tuple[object, object]:
        from rapidocr import RapidOCR  # imported here: onnxruntime loads only where OCR runs

        s = self._settings
        paths = {
            "det": _pinned("det", s.det_model, s.det_sha256),
            "rec": _pinned("rec", s.rec_model, s.rec_sha256),
            "cls": _pinned("cls", s.cls_model, s.cls_sha256),
        }
        common: dict[str, object] = {
            "Global.log_level": "error",
            "Global.text_score": 0.0,  # ours is applied in read(), with the reason
            "Det.model_path": str(paths["det"]),
            "Rec.model_path": str(paths["rec"]),
            "Cls.model_path": str(paths["cls"]),
            "Det.max_candidates": s.max_lines,
        }
        if s.threads:
            common["EngineConfig.onnxruntime.intra_op_num_threads"] = s.threads
        # the gate detects at its own small size: no upscaling to detection's usual 736 px
        gate = RapidOCR(params={**common, "Det.limit_type": "max", "Det.limit_side_len": s.gate_px})
        return gate, RapidOCR(params=common)


def _pinned(kind: str, configured: str, sha256: str) -> Path:
    if configured:
        path = Path(configured).expanduser()
    else:
        path = Path(str(importlib.resources.files("rapidocr") / "models" / SHIPPED_MODELS[kind][0]))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise ModelChanged(
            f"OCR {kind} model {path.name} has SHA-256 {digest[:12]}…, not the pinned "
            f"{sha256[:12]}… (a rapidocr upgrade?): pin the file and its digest in "
            f"enrichment.ocr, or re-pin after checking make bench-enrich"
        )
    return path


def _says_something(text: str) -> bool:
    """Two different letters or digits at least: a lone "0" or "十", or "0000", is what the
    recogniser makes of a texture far more often than what a picture says."""
    return len({c for c in text if c.isalnum()}) >= 2


def _elongation(points: object) -> float:
    xs = [float(p[0]) for p in points]  # type: ignore[attr-defined]
    ys = [float(p[1]) for p in points]  # type: ignore[attr-defined]
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    return max(width, height) / max(min(width, height), 1.0)


def _fraction(value: float, size: int) -> float:
    return round(min(max(float(value) / max(size, 1), 0.0), 1.0), 4)
