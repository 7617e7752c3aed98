"""Build CLIP model directories offline: the real CLIP BPE tokenizer and CLIPModel architecture.

``python -m imagesearch_dev.clip_builder OUT`` writes a random-weight model of ViT-B/32 size
(speed depends on the architecture, not the weights) for benchmarks. The directory has the
layout of a hub CLIP and loads through the same ``SentenceTransformer(path)`` call.
"""

import argparse
import gzip
import json
from pathlib import Path

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


def vit_b32_config() -> CLIPConfig:
    """The architecture of openai/clip-vit-base-patch32 (for speed benchmarks)."""
    return CLIPConfig(
        text_config={"hidden_size": 512, "intermediate_size": 2048, "num_attention_heads": 8},
        vision_config={"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12},
        projection_dim=512,
    )


CONTEXT_TOKENS = 77


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


def build_random(
    out_dir: Path, config: CLIPConfig, seed: int = 0, bpe_gz: Path = DEFAULT_BPE
) -> Path:
    """A random-weight CLIP, deterministic for a seed, saved as a transformers CLIP directory."""
    torch.manual_seed(seed)
    model = CLIPModel(config).eval()
    tmp = out_dir / "_tokenizer"
    write_tokenizer_files(bpe_gz, tmp)
    processor = processor_for(tmp)
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
    args = parser.parse_args()
    build_random(args.out, vit_b32_config(), args.seed)
    print(args.out)


if __name__ == "__main__":
    main()
