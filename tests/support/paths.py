from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the offline model the project trained (shared/models/tiny-clip)
MODEL_DIR = ROOT / "shared" / "models" / "tiny-clip"
