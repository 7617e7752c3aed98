"""A model's two towers as ONNX files, for the onnx and openvino runtimes.

Exported once per model (and torch/transformers version) from the same SentenceTransformer the
torch runtime loads, into a cache every process shares (under a file lock: two worker children
starting together export once), with the model's processor saved beside them. Int8 is ONNX
Runtime's dynamic quantisation of those files, made on first use.
"""

import hashlib
import json
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.embedding.machine import cache_dir, locked

EXPORT_VERSION = 1  # bump when what is exported changes
OPSET = 17
IMAGE_FILE, TEXT_FILE = "image.onnx", "text.onnx"
INT8_SUFFIX = ".int8.onnx"


# text towers trained on texts padded to their full length (SigLIP pools its last position):
# a text padded only to the longest of its batch would get another vector alone than batched
PAD_TO_FULL_LENGTH = frozenset({"siglip", "siglip2"})


def pads_to_full_length(model: Any) -> bool:
    return getattr(getattr(model, "config", None), "model_type", None) in PAD_TO_FULL_LENGTH


@dataclass(frozen=True)
class Export:
    folder: Path
    dim: int
    max_seq_length: int
    pad_to_full_length: bool = False

    def tower(self, name: str, int8: bool = False) -> Path:
        path = self.folder / (IMAGE_FILE if name == "image" else TEXT_FILE)
        return path.with_name(path.stem + INT8_SUFFIX) if int8 else path


def exports_dir() -> Path:
    return cache_dir("exports")


def exported(model_id: str, folder: Path | None = None, int8: bool = False) -> Export:
    """The model's towers as ONNX (exported now if this model has none yet)."""
    root = folder or exports_dir()
    dest = root / export_key(model_id)
    if not (dest / "meta.json").exists():
        with locked(root):
            if not (dest / "meta.json").exists():
                _export(model_id, dest)
    meta = json.loads((dest / "meta.json").read_text())
    export = Export(
        dest,
        int(meta["dim"]),
        int(meta["max_seq_length"]),
        bool(meta.get("pad_to_full_length", False)),
    )
    if int8 and not export.tower("text", int8=True).exists():
        with locked(root):
            _quantize(export)
    return export


def export_key(model_id: str) -> str:
    """What an export holds for: the model (a local one by its weights' size and time), and
    the exporter's versions."""
    import torch
    import transformers

    path = Path(model_id).expanduser()
    weights = ""
    if path.is_dir():
        path = path.resolve()
        weights = ";".join(
            f"{f.name}:{f.stat().st_size}:{int(f.stat().st_mtime)}"
            for f in sorted(path.rglob("*.safetensors")) + sorted(path.rglob("*.bin"))
        )
    key = f"{path}|{weights}|{torch.__version__}|{transformers.__version__}|{EXPORT_VERSION}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def _export(model_id: str, dest: Path) -> None:
    import torch
    from sentence_transformers import SentenceTransformer

    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    model = SentenceTransformer(model_id, device="cpu")
    model.eval()
    first = model[0]
    clip = getattr(first, "model", None) or first.auto_model
    image_tower, text_tower = _towers(clip)
    pixels = torch.zeros(2, 3, *_image_size(first))
    tokens = torch.ones(2, 7, dtype=torch.long)
    towers: list[tuple[str, Any, tuple[Any, ...], list[str]]] = [
        (IMAGE_FILE, image_tower, (pixels,), ["pixel_values"]),
        (TEXT_FILE, text_tower, (tokens, tokens), ["input_ids", "attention_mask"]),
    ]
    axes = {"pixel_values": {0: "batch"}, "input_ids": {0: "batch", 1: "tokens"}}
    axes |= {"attention_mask": {0: "batch", 1: "tokens"}, "embeds": {0: "batch"}}
    # the tracer warns about every shape check it freezes; the runtimes' tests compare the
    # exported towers' vectors with torch's over batch sizes, image sizes and text lengths
    with torch.no_grad(), warnings.catch_warnings():  # no_grad: inference tensors refuse a trace
        warnings.simplefilter("ignore")
        for file, tower, example, inputs in towers:
            torch.onnx.export(
                tower,
                example,
                str(partial / file),
                input_names=inputs,
                output_names=["embeds"],
                dynamic_axes={name: axes[name] for name in [*inputs, "embeds"]},
                opset_version=OPSET,
                dynamo=False,
            )
        dim = int(tower(*example).shape[1])
    processor: Any = first.processor
    processor.save_pretrained(partial)
    meta = {
        "model": model_id,
        "dim": dim,
        "max_seq_length": _max_seq_length(first, clip),
        "pad_to_full_length": pads_to_full_length(clip),
    }
    (partial / "meta.json").write_text(json.dumps(meta))
    shutil.rmtree(dest, ignore_errors=True)
    partial.rename(dest)


def _quantize(export: Export) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    for name in ("image", "text"):
        target = export.tower(name, int8=True)
        if not target.exists():
            partial = target.with_name(target.name + ".partial")
            quantize_dynamic(export.tower(name), partial, weight_type=QuantType.QInt8)
            partial.rename(target)


def _image_size(module: Any) -> tuple[int, int]:
    config = getattr(getattr(module, "processor", None), "image_processor", None)
    size = getattr(config, "crop_size", None) or {"height": 224, "width": 224}
    return int(size["height"]), int(size["width"])


def _max_seq_length(module: Any, clip: Any) -> int:
    """The text tower's positions (77 for CLIP), or less where the model says so."""
    config = getattr(clip, "config", None)
    positions = getattr(getattr(config, "text_config", config), "max_position_embeddings", 77)
    current = getattr(module, "max_seq_length", None)
    return int(min(positions, current) if isinstance(current, int) else positions)


def _features(output: Any) -> Any:
    # transformers 5 returns the projected embeddings as the output's pooler_output
    return output if hasattr(output, "shape") else output.pooler_output


def _towers(clip: Any) -> tuple[Any, Any]:
    """The image and text towers as torch modules (torch is imported only to export)."""
    import torch

    class ImageTower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.clip = clip

        def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
            features: torch.Tensor = _features(
                self.clip.get_image_features(pixel_values=pixel_values)
            )
            return features

    class TextTower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.clip = clip

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            out = self.clip.get_text_features(input_ids=input_ids, attention_mask=attention_mask)
            features: torch.Tensor = _features(out)
            return features

    return ImageTower(), TextTower()
