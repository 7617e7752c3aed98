from pathlib import Path

from shared.embedding.precision import Trial, choose, cpu_has_native_bf16, shared_decision


def test_bf16_is_kept_only_when_faster_and_close_enough() -> None:
    fp32 = Trial(seconds=2.0, min_cosine=1.0)
    assert choose(fp32, Trial(0.8, 0.99999)) == "bf16"
    assert choose(fp32, Trial(0.8, 0.998)) == "fp32"  # faster, but the vectors moved
    assert choose(fp32, Trial(1.9, 0.99999)) == "fp32"  # a tie stays fp32
    assert choose(fp32, Trial(1.7, 0.99999)) == "fp32"  # as does a gain within the noise
    assert choose(fp32, Trial(2.5, 0.99999)) == "fp32"


def test_native_bf16_is_read_from_the_cpu_flags(tmp_path: Path) -> None:
    with_bf16 = tmp_path / "a"
    with_bf16.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_bf16\n")
    with_amx = tmp_path / "b"
    with_amx.write_text("flags\t\t: fpu avx2 amx_tile amx_bf16\n")
    without = tmp_path / "c"
    without.write_text("flags\t\t: fpu sse avx2 avx512f\n")
    assert cpu_has_native_bf16(with_bf16)
    assert cpu_has_native_bf16(with_amx)
    assert not cpu_has_native_bf16(without)
    assert not cpu_has_native_bf16(tmp_path / "missing")


def test_one_measurement_per_model_and_machine_is_shared(tmp_path: Path) -> None:
    measured = {"fp32": Trial(2.0, 1.0), "bf16": Trial(0.8, 0.99998)}
    with shared_decision("vit|cpu A", tmp_path) as first:
        assert first.dtype is None  # nobody measured yet: this process does
        first.dtype, first.trials = "bf16", measured
    with shared_decision("vit|cpu A", tmp_path) as second:
        assert (second.dtype, second.trials) == ("bf16", measured)  # read, not measured again
    with shared_decision("vit|cpu B", tmp_path) as other_machine:
        assert other_machine.dtype is None


def test_without_a_writable_cache_every_process_stays_fp32(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with shared_decision("vit|cpu A", blocked / "precision") as decision:
        assert decision.dtype == "fp32"  # no measurement that could differ between processes
