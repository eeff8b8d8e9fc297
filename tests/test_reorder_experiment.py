"""experiments/vgg16_reorder.py end to end on a tiny net: the JSON the issue asks for, exactness 0."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "vgg16_reorder.py"

TINY = """name: "tiny"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 3 dim: 20 dim: 20 } } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1" convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "tanh2" type: "TanH" bottom: "pool1" top: "t2" }
layer { name: "pool2" type: "Pooling" bottom: "t2" top: "pool2" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
layer { name: "fc" type: "InnerProduct" bottom: "pool2" top: "fc" inner_product_param { num_output: 5 } }
"""


def load_script():
    spec = importlib.util.spec_from_file_location("vgg16_reorder", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_experiment_writes_the_record(tmp_path):
    proto = tmp_path / "tiny.prototxt"
    proto.write_text(TINY)
    rc = load_script().main(["--model", str(proto), "--iterations", "4", "--images", "3", "--fuse",
                             "--out", str(tmp_path)])
    assert rc == 0
    rec = json.loads((tmp_path / "tiny_reorder_fused.json").read_text())
    assert set(rec["activation_speedup"]) == {"relu1", "tanh2"}
    assert rec["theoretical_speedup"] == {"relu1": 4.0, "tanh2": 100 / 25}   # 10x10 -> 5x5 (ceil)
    assert rec["max_abs_diff"] == 0 and rec["images"] == 3
    assert rec["identical_scores"] == {"reordered": 15, "fused": 15} and rec["scores"] == 15
    assert all(np.isfinite(v) and v > 0 for v in rec["activation_speedup"].values())
    assert set(rec["total_ms"]) == {"original", "reordered", "fused"}
    assert isinstance(rec["total_time_change"], float) and rec["paper_cpu_speedup"] is None
    assert (tmp_path / "tiny_reorder_fused.png").stat().st_size > 0
    assert "Table 1" in (tmp_path / "tiny_reorder_fused.md").read_text()
