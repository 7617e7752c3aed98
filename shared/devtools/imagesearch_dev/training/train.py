"""Train the offline model: a small CLIP (real BPE tokenizer, transformers CLIPModel) on scenes.

    python -m imagesearch_dev.training.train shared/models/tiny-clip

Renders captioned scenes on the fly, trains contrastively for a time budget on the CPU, saves
the model in sentence-transformers format, then measures held-out text → image recall through
the same ``SentenceTransformer(path)`` call the services use, on scene kinds never trained on.
"""

import argparse
import json
import math
import random
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

from imagesearch_dev.clip_builder import DEFAULT_BPE, processor_for, write_tokenizer_files
from imagesearch_dev.training.evaluate import evaluate, write_card
from imagesearch_dev.training.scenes import Scene, all_scenes, render

IMAGE_SIZE = 64
# CLIP's normalisation, the same numbers CLIPImageProcessor applies
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


ARCHITECTURE = (
    f"vision ViT 4 layers x 128 wide, {IMAGE_SIZE} px input, patch 16; "
    "text 3 layers x 64 wide; 128-d embeddings (cosine)"
)


def model_config() -> CLIPConfig:
    text = {
        "vocab_size": 49408,
        "hidden_size": 64,
        "intermediate_size": 256,
        "num_hidden_layers": 3,
        "num_attention_heads": 4,
        "max_position_embeddings": 77,
        "bos_token_id": 49406,
        "eos_token_id": 49407,
        "pad_token_id": 49407,
    }
    vision = {
        "hidden_size": 128,
        "intermediate_size": 512,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "image_size": IMAGE_SIZE,
        "patch_size": 16,
    }
    return CLIPConfig(text_config=text, vision_config=vision, projection_dim=128)


def split_scenes(seed: int, held_out: float) -> tuple[list[Scene], list[Scene]]:
    """Hold out whole scene kinds (attribute combinations), not just renderings."""
    scenes = all_scenes()
    random.Random(seed).shuffle(scenes)
    n_test = int(len(scenes) * held_out)
    return scenes[n_test:], scenes[:n_test]


def pixels(images: list[Image.Image]) -> torch.Tensor:
    """What CLIPImageProcessor does for a square image: bicubic resize, scale, normalise."""
    arrays = [
        np.asarray(img.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BICUBIC), np.float32)
        for img in images
    ]
    batch = (np.stack(arrays) / 255.0 - MEAN) / STD
    return torch.from_numpy(batch).permute(0, 3, 1, 2).contiguous()


def soft_clip_loss(
    image_emb: torch.Tensor, text_emb: torch.Tensor, scale: torch.Tensor, ids: torch.Tensor
) -> torch.Tensor:
    """CLIP's symmetric loss; a batch may hold one scene kind twice, so targets are shared."""
    logits = scale * image_emb @ text_emb.T
    same = (ids[:, None] == ids[None, :]).float()
    targets = same / same.sum(dim=1, keepdim=True)
    return (F.cross_entropy(logits, targets) + F.cross_entropy(logits.T, targets)) / 2


def train(out: Path, minutes: float, batch: int, seed: int, held_out: float) -> dict[str, object]:
    torch.manual_seed(seed)
    rng = random.Random(seed)
    train_scenes, test_scenes = split_scenes(seed, held_out)
    with tempfile.TemporaryDirectory() as tmp:
        write_tokenizer_files(DEFAULT_BPE, Path(tmp))
        processor = processor_for(Path(tmp))
    processor.image_processor = CLIPImageProcessor(
        size={"shortest_edge": IMAGE_SIZE}, crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}
    )
    captions = [s.caption for s in train_scenes]
    tokens = processor.tokenizer(captions, padding=True, return_tensors="pt")

    model = CLIPModel(model_config())
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    budget_s, warmup = minutes * 60, 100
    started, step, losses = time.monotonic(), 0, []
    model.train()
    while (elapsed := time.monotonic() - started) < budget_s:
        progress = elapsed / budget_s
        lr_factor = min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * progress))
        for group in optimizer.param_groups:
            group["lr"] = 2e-3 * lr_factor
        picks = [rng.randrange(len(train_scenes)) for _ in range(batch)]
        images = [render(train_scenes[i], rng.choice([64, 96, 128, 160]), rng) for i in picks]
        ids = torch.tensor(picks)
        image_emb = F.normalize(
            model.get_image_features(pixel_values=pixels(images)).pooler_output, dim=-1
        )
        text_emb = F.normalize(
            model.get_text_features(
                input_ids=tokens["input_ids"][ids], attention_mask=tokens["attention_mask"][ids]
            ).pooler_output,
            dim=-1,
        )
        loss = soft_clip_loss(image_emb, text_emb, model.logit_scale.exp().clamp(max=100), ids)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        step += 1
        if step % 100 == 0:
            print(
                f"step {step:5d}  {elapsed / 60:5.1f} min  loss {np.mean(losses[-100:]):.3f}",
                flush=True,
            )

    model.eval()
    save(model, processor, out)
    metrics = {
        "steps": step,
        "batch": batch,
        "train_minutes": round((time.monotonic() - started) / 60, 2),
        "final_loss": round(float(np.mean(losses[-100:])), 4),
        "train_scene_kinds": len(train_scenes),
        "held_out_scene_kinds": len(test_scenes),
        "held_out": evaluate(out, test_scenes, seed + 1),
        "seen_kinds_new_renderings": evaluate(
            out, rng.sample(train_scenes, len(test_scenes)), seed + 2
        ),
    }
    write_card(out, metrics, ARCHITECTURE)
    return metrics


def save(model: CLIPModel, processor: CLIPProcessor, out: Path) -> None:
    """Save as transformers CLIP, then in sentence-transformers' format (like the hub model)."""
    from sentence_transformers import SentenceTransformer

    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        processor.save_pretrained(tmp)
        st_model = SentenceTransformer(tmp, device="cpu")
        if out.exists():
            shutil.rmtree(out)
        st_model.save(str(out))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--minutes", type=float, default=10.0, help="training time budget")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--held-out", type=float, default=0.15, help="share of scene kinds held out"
    )
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    metrics = train(args.out, args.minutes, args.batch, args.seed, args.held_out)
    print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
