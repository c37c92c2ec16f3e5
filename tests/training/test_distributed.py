"""Two CPU processes under torchrun (gloo) train like one process on the same data and seed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import aekit
from aekit.datasets import load_digits
from aekit.training import distributed

PARAMS = {"latent_dim": 8, "max_epochs": 10}


def test_torchrun_two_processes_match_one(tmp_path: Path) -> None:
    X, _ = load_digits()
    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    data = tmp_path / "digits"
    data.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 4)):
        table = pa.Table.from_pandas(frame.iloc[rows].reset_index(drop=True), preserve_index=False)
        pq.write_table(table, data / f"part-{i}.parquet", row_group_size=150)
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or "torchrun"
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    launch = [torchrun, "--standalone", "--nproc_per_node=2", "-m", "aekit"]
    options = ["--latent-dim", "8", "--max-epochs", str(PARAMS["max_epochs"]), "--seed", "0"]
    result = subprocess.run(
        [*launch, "fit", "digits", "-o", "ddp.safetensors", *options, "--quiet"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("saved ") == 1  # rank 0 alone speaks and writes
    assert sorted(p.name for p in tmp_path.glob("*.safetensors")) == ["ddp.safetensors"]
    assert not list(tmp_path.glob(".*partial*"))

    ddp = aekit.load(tmp_path / "ddp.safetensors")
    single = aekit.Autoencoder(**PARAMS, random_state=0, verbose=0).fit(data)
    assert ddp.history_.n_epochs == single.history_.n_epochs == PARAMS["max_epochs"]
    # measured: train loss 0.01275 (2 ranks) vs 0.01254 (1), validation 0.01426 vs 0.01419
    for curve in ("train_loss", "val_loss"):
        ours, theirs = getattr(ddp.history_, curve)[-1], getattr(single.history_, curve)[-1]
        print(f"{curve}: 2 ranks {ours:.5f}, 1 process {theirs:.5f}")
        assert ours == pytest.approx(theirs, rel=0.15), curve
    errors_ddp, errors_single = ddp.reconstruction_error(frame), single.reconstruction_error(frame)
    # measured 0.87: two networks from different batch orders, not one network twice
    correlation = np.corrcoef(errors_ddp, errors_single)[0, 1]
    print(f"correlation of per-sample errors {correlation:.3f}")
    assert correlation > 0.75
    assert ddp.score(frame) == pytest.approx(single.score(frame), rel=0.15)


def test_single_process_is_not_distributed() -> None:
    assert not distributed.launched() or os.environ.get("WORLD_SIZE") == "1"
    assert distributed.rank_and_world() == (0, 1) and distributed.is_main()
    assert distributed.mean_terms({}, 0) == {}
