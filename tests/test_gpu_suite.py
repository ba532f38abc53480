"""benchmarks/gpu_suite.py runs end to end on the CPU with a tiny config (CUDA-only cases
report themselves skipped), so the suite a GPU session runs is known to work."""

from __future__ import annotations

import importlib.util
import math

import torch
from conftest import repo_root


def _suite():
    spec = importlib.util.spec_from_file_location("gpu_suite", repo_root() / "benchmarks" / "gpu_suite.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_suite_on_cpu_with_the_tiny_config(tmp_path):
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        r = _suite().main(["--device", "cpu", "--config", "tiny", "--size", "64", "--points", "20000",
                           "--frames", "3", "--warmup", "1", "--onnx-config", "tiny",
                           "--json", str(tmp_path / "suite.json")])
    finally:
        torch.set_num_threads(n)
    assert (tmp_path / "suite.json").is_file()
    rd = r["renderer"]
    assert rd["bit_identical_to_cpu"] and 0 < rd["coverage"] < 1
    cases = r["end_to_end"]["cases"]
    for name in ("fp32", "bf16"):
        s = cases[name]
        assert s["n"] == 3 and 0 < s["p50_ms"] <= s["p99_ms"] and math.isfinite(s["frames_per_s"])
    assert "CUDA" in cases["bf16 + CUDA graphs"]["skipped"]
    onnx = r["onnx"]["cases"]["CPUExecutionProvider"]
    assert onnx["providers_in_use"] == ["CPUExecutionProvider"] and onnx["p50_ms"] > 0
