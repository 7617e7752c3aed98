"""The onnx and openvino runtimes: the model's towers exported to ONNX (export.py), run by ONNX
Runtime or by OpenVINO, behind the same processor the torch runtime uses. They must give the
torch runtime's vectors (cosine >= 0.999, tested), only faster: on the 2-core AVX512-BF16 box,
OpenVINO in bf16 ran the ViT-B/32 image tower about 2x as fast as torch's bf16 autocast
(make bench-embed)."""

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from PIL import Image

from shared.config import EmbeddingSettings
from shared.embedding.export import Export, exported
from shared.embedding.identity import EmbedderIdentity
from shared.embedding.precision import Trial, cpu_has_native_bf16, machine_key, settle_dtype
from shared.embedding.protocol import Vectors

Tower = Callable[[dict[str, np.ndarray]], np.ndarray]
RUNTIME_DTYPES = {"onnx": ("fp32", "int8"), "openvino": ("fp32", "bf16")}


def resolve_exported_dtype(runtime: str, dtype: str) -> str:
    """The configured dtype, or "auto" where only a measurement can tell (OpenVINO on a CPU
    with native bf16)."""
    if dtype == "auto":
        return "auto" if runtime == "openvino" and cpu_has_native_bf16() else "fp32"
    if dtype not in RUNTIME_DTYPES[runtime]:
        allowed = " or ".join(RUNTIME_DTYPES[runtime])
        raise ValueError(
            f"embedding.dtype {dtype} is not available with runtime {runtime}: {allowed}"
        )
    return dtype


class ExportedEmbedder(EmbedderIdentity):
    def __init__(
        self,
        runtime: str,
        export: Export,
        model_id: str,
        batch_size: int,
        threads: int,
        dtype: str = "fp32",
        text_export: Export | None = None,
        text_model_id: str | None = None,
    ) -> None:
        from transformers import AutoProcessor

        self.runtime = runtime
        self.model_id = model_id
        self.text_model_id = text_model_id or model_id
        self.device = "cpu"
        self.dim = export.dim
        self._export = export
        self._text_export = text_export or export
        self._processor = AutoProcessor.from_pretrained(export.folder)  # type: ignore[no-untyped-call]
        text_processor = (
            AutoProcessor.from_pretrained(text_export.folder)  # type: ignore[no-untyped-call]
            if text_export is not None
            else self._processor
        )
        self._tokenizer = text_processor.tokenizer
        self._batch_size = batch_size
        self._threads = threads
        self._towers: dict[tuple[str, str], Tower] = {}
        self.dtype = dtype
        self.dtype_trials: dict[str, Trial] = {}
        self._check_one_space(self._text_export.dim)

    @classmethod
    def load(cls, settings: EmbeddingSettings) -> "ExportedEmbedder":
        if settings.device == "cuda":
            raise ValueError(f"embedding.runtime {settings.runtime} runs on the CPU; use torch")
        runtime = settings.runtime
        dtype = resolve_exported_dtype(runtime, settings.dtype)
        int8 = dtype == "int8"
        export = exported(settings.model, int8=int8)
        text = exported(settings.text_model, int8=int8) if settings.text_model else None
        embedder = cls(
            runtime,
            export,
            settings.model,
            settings.batch_size,
            settings.threads,
            "fp32" if dtype == "auto" else dtype,
            text,
            settings.text_model,
        )
        if dtype == "auto":
            key = machine_key(f"{runtime}|{settings.model}", settings.threads)
            settle_dtype(embedder, key, settings.batch_size)
            # the towers compiled for the precision not chosen are of no further use
            embedder._towers = {k: t for k, t in embedder._towers.items() if k[1] == embedder.dtype}
        embedder.embed_images([Image.new("RGB", (32, 32))])  # compile now, not on a request
        embedder.embed_texts(["warm up"])
        return embedder

    def embed_images(self, images: Sequence[Image.Image]) -> Vectors:
        rows = []
        for start in range(0, len(images), self._batch_size):
            chunk = list(images[start : start + self._batch_size])  # the processor converts to RGB
            pixels = self._processor.image_processor(images=chunk, return_tensors="np")
            tower = self._tower("image")
            rows.append(tower({"pixel_values": pixels["pixel_values"].astype(np.float32)}))
        return _normalized(rows, self.dim)

    def embed_texts(self, texts: Sequence[str]) -> Vectors:
        rows = []
        for start in range(0, len(texts), self._batch_size):
            tokens = self._tokenizer(
                list(texts[start : start + self._batch_size]),
                padding="max_length" if self._text_export.pad_to_full_length else True,
                truncation=True,
                max_length=self._text_export.max_seq_length,
                return_tensors="np",
            )
            feeds = {
                name: tokens[name].astype(np.int64) for name in ("input_ids", "attention_mask")
            }
            rows.append(self._tower("text")(feeds))
        return _normalized(rows, self.dim)

    def _tower(self, name: str) -> Tower:
        key = (name, self.dtype)
        if key not in self._towers:
            export = self._export if name == "image" else self._text_export
            path = str(export.tower(name, int8=self.dtype == "int8"))
            load = _openvino_tower if self.runtime == "openvino" else _onnxruntime_tower
            self._towers[key] = load(path, self._threads, self.dtype)
        return self._towers[key]


def _normalized(rows: list[np.ndarray], dim: int) -> Vectors:
    if not rows:
        return np.zeros((0, dim), dtype=np.float32)
    vectors = np.concatenate(rows).astype(np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def _onnxruntime_tower(path: str, threads: int, dtype: str) -> Tower:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads  # 0: one per core, ONNX Runtime's default
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])

    def run(feeds: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(session.run(None, feeds)[0])  # thread-safe

    return run


def _openvino_tower(path: str, threads: int, dtype: str) -> Tower:
    import openvino as ov

    config: dict[str, Any] = {
        "INFERENCE_PRECISION_HINT": "bf16" if dtype == "bf16" else "f32",
        "PERFORMANCE_HINT": "LATENCY",
    }
    if threads:
        config["INFERENCE_NUM_THREADS"] = threads
    compiled = ov.Core().compile_model(path, "CPU", config)
    request = compiled.create_infer_request()
    lock = threading.Lock()  # one infer request, and searchapi calls from a thread pool

    def run(feeds: dict[str, np.ndarray]) -> np.ndarray:
        with lock:
            return np.array(request.infer(feeds)[0])  # a copy: the request reuses its buffer

    return run
