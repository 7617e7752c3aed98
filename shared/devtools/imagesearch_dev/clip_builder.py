"""Build dual-encoder model directories offline: the real CLIP BPE tokenizer and the hub
models' architectures (CLIP ViT-B/32, ViT-B/16, ViT-L/14; SigLIP base), random weights.

``python -m imagesearch_dev.clip_builder OUT [--arch vit-b-16]`` writes one (speed and memory
depend on the architecture, not the weights) for benchmarks and for the tests that prove an
architecture loads through the production path. The directories have the layout of a hub
model in transformers format and load through the same ``SentenceTransformer(path)`` call.
"""

import argparse
import gzip
import json
from pathlib import Path
from typing import Any

import torch
from transformers import (
    CLIPConfig,
    CLIPImageProcessor,
    CLIPModel,
    CLIPProcessor,
    CLIPTokenizer,
)

DEFAULT_BPE = (
    Path(__file__).resolve().parents[2] / "models" / "clip-bpe" / "bpe_simple_vocab_16e6.txt.gz"
)
# the CLIP vocabulary: 256 bytes, their end-of-word forms, 48,894 merges, 2 special tokens
N_MERGES = 49152 - 256 - 2


def _bytes_to_unicode() -> dict[int, str]:
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    codes = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in codes), strict=True))


def write_tokenizer_files(bpe_gz: Path, out_dir: Path) -> tuple[Path, Path]:
    """Convert open_clip's BPE file into CLIPTokenizer's vocab.json + merges.txt."""
    with gzip.open(bpe_gz, "rt", encoding="utf-8") as f:
        lines = f.read().split("\n")
    merges = [tuple(line.split()) for line in lines[1 : N_MERGES + 1]]
    vocab = list(_bytes_to_unicode().values())
    vocab += [v + "</w>" for v in vocab]
    vocab += ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    out_dir.mkdir(parents=True, exist_ok=True)
    vocab_path, merges_path = out_dir / "vocab.json", out_dir / "merges.txt"
    vocab_path.write_text(json.dumps({tok: i for i, tok in enumerate(vocab)}, ensure_ascii=False))
    merges_path.write_text("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n")
    return vocab_path, merges_path


def vit_b32_config(patch_size: int = 32) -> CLIPConfig:
    """The architecture of openai/clip-vit-base-patch32 (for speed benchmarks), or with another
    patch size."""
    return CLIPConfig(
        text_config={"hidden_size": 512, "intermediate_size": 2048, "num_attention_heads": 8},
        vision_config={
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_attention_heads": 12,
            "patch_size": patch_size,
        },
        projection_dim=512,
    )


def vit_b16_config() -> CLIPConfig:
    """openai/clip-vit-base-patch16: B/32's towers, 16-pixel patches (196 of them)."""
    return vit_b32_config(patch_size=16)


def vit_l14_config() -> CLIPConfig:
    """openai/clip-vit-large-patch14: 24 vision layers of 1024, 768-d text and vectors."""
    return CLIPConfig(
        text_config={"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12},
        vision_config={
            "hidden_size": 1024,
            "intermediate_size": 4096,
            "num_attention_heads": 16,
            "num_hidden_layers": 24,
            "patch_size": 14,
        },
        projection_dim=768,
    )


def siglip_base_config() -> Any:
    """google/siglip-base-patch16-224: no projection, vectors are the towers' 768-d pools."""
    from transformers import SiglipConfig

    return SiglipConfig(
        text_config={"vocab_size": CLIP_VOCAB, "max_position_embeddings": SIGLIP_TOKENS},
        vision_config={"patch_size": 16, "image_size": 224},
    )


CONTEXT_TOKENS = 77
# SigLIP's text tower has 64 positions and its processor pads every text to them
SIGLIP_TOKENS = 64
CLIP_VOCAB = 49408


def processor_for(tokenizer_dir: Path) -> CLIPProcessor:
    # CLIP's text tower has 77 positions: longer texts are cut there, as the real CLIP's are
    tokenizer = CLIPTokenizer(
        str(tokenizer_dir / "vocab.json"),
        str(tokenizer_dir / "merges.txt"),
        model_max_length=CONTEXT_TOKENS,
    )
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224}
    )
    return CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer)


def siglip_processor_for(tokenizer_dir: Path) -> Any:
    """SigLIP's image processing (224 px squashed, not cropped; mean and std 0.5) with the
    CLIP BPE tokenizer in place of its SentencePiece one (no SentencePiece model offline)."""
    from transformers import SiglipImageProcessor, SiglipProcessor

    tokenizer = CLIPTokenizer(
        str(tokenizer_dir / "vocab.json"),
        str(tokenizer_dir / "merges.txt"),
        model_max_length=SIGLIP_TOKENS,
    )
    image_processor = SiglipImageProcessor(size={"height": 224, "width": 224})
    return SiglipProcessor(image_processor=image_processor, tokenizer=tokenizer)


ARCHITECTURES = {
    "vit-b-32": vit_b32_config,
    "vit-b-16": vit_b16_config,
    "vit-l-14": vit_l14_config,
    "siglip-base": siglip_base_config,
}


def build_random(out_dir: Path, config: Any, seed: int = 0, bpe_gz: Path = DEFAULT_BPE) -> Path:
    """A random-weight model, deterministic for a seed, saved as a transformers directory
    (CLIPModel for a CLIPConfig, SiglipModel for a SiglipConfig)."""
    torch.manual_seed(seed)
    tmp = out_dir / "_tokenizer"
    write_tokenizer_files(bpe_gz, tmp)
    if isinstance(config, CLIPConfig):
        model: Any = CLIPModel(config).eval()
        processor: Any = processor_for(tmp)
    else:
        from transformers import SiglipModel

        model = SiglipModel(config).eval()
        processor = siglip_processor_for(tmp)
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()
    return out_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default="vit-b-32")
    args = parser.parse_args()
    build_random(args.out, ARCHITECTURES[args.arch](), args.seed)
    print(args.out)


if __name__ == "__main__":
    main()


# the files of the hub repository laion/CLIP-ViT-B-32-laion2B-s34B-b79K (an OpenCLIP model also
# published in transformers' CLIP format): no modules.json, the processor as the older
# preprocessor_config.json, weights for transformers (model.safetensors, pytorch_model.bin) and
# for OpenCLIP (open_clip_*), which transformers never reads
LAION_B32_FILES = (
    ".gitattributes",
    "README.md",
    "config.json",
    "merges.txt",
    "model.safetensors",
    "open_clip_config.json",
    "open_clip_model.safetensors",
    "open_clip_pytorch_model.bin",
    "preprocessor_config.json",
    "pytorch_model.bin",
    "special_tokens_map.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.json",
)
# CLIP's pixel statistics, as the hub's CLIP preprocessor configs give them
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def build_laion_layout(out_dir: Path, seed: int = 0, bpe_gz: Path = DEFAULT_BPE) -> Path:
    """A random-weight ViT-B/32 (GELU, as OpenCLIP's) laid out file for file as
    laion/CLIP-ViT-B-32-laion2B-s34B-b79K (LAION_B32_FILES)."""
    from safetensors.torch import save_file

    config = vit_b32_config()
    # OpenCLIP's towers use GELU, OpenAI's the quick approximation
    for tower in (config.text_config, config.vision_config):
        setattr(tower, "hidden_act", "gelu")  # noqa: B010 - typed as a dict or a config
    build_random(out_dir, config, seed, bpe_gz)
    (out_dir / "processor_config.json").unlink()
    # as the hub's config.json was written (transformers 4.2x): the towers' settings again
    # under the old *_config_dict keys
    written = json.loads((out_dir / "config.json").read_text())
    written["text_config_dict"] = {"hidden_act": "gelu", "hidden_size": 512}
    written["vision_config_dict"] = {"hidden_act": "gelu", "hidden_size": 768, "patch_size": 32}
    written["transformers_version"] = "4.24.0.dev0"
    _write_json(out_dir / "config.json", written)
    model = CLIPModel.from_pretrained(out_dir)
    torch.save(model.state_dict(), out_dir / "pytorch_model.bin")
    write_tokenizer_files(bpe_gz, out_dir)
    special = {
        "bos_token": "<|startoftext|>",
        "eos_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>",
        "unk_token": "<|endoftext|>",
    }
    _write_json(out_dir / "special_tokens_map.json", special)
    _write_json(
        out_dir / "tokenizer_config.json",
        {
            **special,
            "add_prefix_space": False,
            "do_lower_case": True,
            "errors": "replace",
            "model_max_length": CONTEXT_TOKENS,
            "tokenizer_class": "CLIPTokenizer",
        },
    )
    _write_json(
        out_dir / "preprocessor_config.json",
        {
            "crop_size": 224,
            "do_center_crop": True,
            "do_normalize": True,
            "do_resize": True,
            "feature_extractor_type": "CLIPFeatureExtractor",
            "image_mean": CLIP_MEAN,
            "image_std": CLIP_STD,
            "resample": 3,
            "size": 224,
        },
    )
    _write_json(
        out_dir / "open_clip_config.json",
        {
            "model_cfg": {
                "embed_dim": 512,
                "vision_cfg": {"image_size": 224, "layers": 12, "width": 768, "patch_size": 32},
                "text_cfg": {
                    "context_length": 77,
                    "vocab_size": CLIP_VOCAB,
                    "width": 512,
                    "heads": 8,
                    "layers": 12,
                },
            },
            "preprocess_cfg": {"mean": CLIP_MEAN, "std": CLIP_STD},
        },
    )
    # OpenCLIP's own weights: only OpenCLIP reads these; a stand-in tensor keeps the layout
    stand_in = {"logit_scale": torch.zeros(())}
    save_file(stand_in, str(out_dir / "open_clip_model.safetensors"))
    torch.save(stand_in, out_dir / "open_clip_pytorch_model.bin")
    (out_dir / "README.md").write_text("random weights in the layout of a hub CLIP (tests)\n")
    (out_dir / ".gitattributes").write_text("*.bin filter=lfs diff=lfs merge=lfs -text\n")
    return out_dir


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n")
