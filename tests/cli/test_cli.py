"""The command line, run as a user runs it: a subprocess, files in, files out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import DETECTOR_COLUMNS, aekit

from aekit.datasets import load_digits


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    X, _ = load_digits()
    frame = pd.DataFrame(X[:400], columns=[f"px{i}" for i in range(64)])
    frame.to_csv(folder / "digits.csv", index=False)
    frame.to_parquet(folder / "digits.parquet")
    np.save(folder / "digits.npy", X[:400])
    np.savez(folder / "pair.npz", train=X[:400], other=X[:5])
    np.save(folder / "narrow.npy", X[:20, :10])
    (folder / "empty.csv").write_text("")
    (folder / "header-only.csv").write_text("a,b,c\n")
    (folder / "empty.npy").write_bytes(b"")
    (folder / "taken.csv").mkdir()
    aekit(
        "fit",
        "digits.csv",
        "-o",
        "model.safetensors",
        "--latent-dim",
        "3",
        "--max-epochs",
        "3",
        "--quiet",
        cwd=folder,
    )
    return folder


def test_help_is_instant_and_shows_examples(tmp_path):
    code = (
        "import sys; from aekit.cli.main import build_parser; build_parser(); "
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False"
    for command in ["fit", "encode", "reconstruct", "score", "denoise", "generate", "info", "demo"]:
        text = aekit(command, "--help", cwd=tmp_path).stdout
        assert "example:" in text and f"aekit {command}" in text


def test_a_missing_data_file_is_reported_before_torch_is_imported(tmp_path):
    code = (
        "import sys; from aekit.cli.main import main; status = main(['score', "
        "'model.safetensors', 'missing.csv', '-o', 'x.csv']); "
        "print(status, 'torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.stdout.strip() == "1 False", result.stderr
    assert "'missing.csv' not found" in result.stderr


def test_fit_writes_a_loadable_model_and_reports(workdir):
    import aekit as lib

    model = lib.load(workdir / "model.safetensors")
    assert model.latent_dim == 3
    assert list(model.feature_names_in_) == [f"px{i}" for i in range(64)]
    assert model.history_.n_epochs == 3


def test_fit_shows_progress_unless_quiet(tmp_path):
    noisy = aekit("fit", "digits", "-o", "m.safetensors", "--max-epochs", "2", cwd=tmp_path)
    assert "epoch" in noisy.stderr and "saved" in noisy.stdout
    quiet = aekit(
        "fit", "digits", "-o", "m.safetensors", "--max-epochs", "2", "--quiet", cwd=tmp_path
    )
    assert quiet.stderr == ""


@pytest.mark.parametrize("source", ["digits.csv", "digits.parquet", "digits.npy", "pair.npz"])
def test_encode_reads_every_table_format(workdir, source):
    extra = ["--key", "train"] if source.endswith(".npz") else []
    out = f"codes-{Path(source).suffix[1:]}.csv"
    aekit("encode", "model.safetensors", source, "-o", out, *extra, cwd=workdir)
    codes = pd.read_csv(workdir / out)
    assert list(codes.columns) == ["autoencoder0", "autoencoder1", "autoencoder2"]
    assert len(codes) == 400


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".npy", ".npz"])
def test_reconstruct_writes_the_format_its_extension_names(workdir, suffix):
    out = workdir / f"rec{suffix}"
    aekit("reconstruct", "model.safetensors", "digits.csv", "-o", out.name, cwd=workdir)
    if suffix == ".csv":
        data = pd.read_csv(out)
        assert list(data.columns)[:2] == ["px0", "px1"]
        data = data.to_numpy()
    elif suffix == ".parquet":
        data = pd.read_parquet(out).to_numpy()
    elif suffix == ".npy":
        data = np.load(out)
    else:
        data = np.load(out)["X"]
    assert data.shape == (400, 64)
    X = pd.read_csv(workdir / "digits.csv").to_numpy()
    assert np.mean((data - X) ** 2) < np.var(X)  # reconstructs better than the mean


def test_images_in_folders_and_grids(workdir):
    aekit(
        "fit",
        "digits-images",
        "-o",
        "conv.safetensors",
        "--kind",
        "conv",
        "--max-epochs",
        "1",
        "--quiet",
        cwd=workdir,
    )
    aekit("reconstruct", "conv.safetensors", "digits-images", "-o", "recs", cwd=workdir)
    pngs = sorted((workdir / "recs").glob("*.png"))
    assert len(pngs) == 1797
    aekit("reconstruct", "conv.safetensors", "recs", "-o", "again.png", cwd=workdir)
    from PIL import Image

    with Image.open(workdir / "again.png") as grid:
        assert grid.size[0] > 8 * 40  # a grid of many 8x8 pictures, not one


def test_generate_from_a_vae(tmp_path):
    aekit(
        "fit",
        "digits",
        "-o",
        "vae.safetensors",
        "--variational",
        "--latent-dim",
        "2",
        "--max-epochs",
        "2",
        "--quiet",
        cwd=tmp_path,
    )
    aekit(
        "generate", "vae.safetensors", "-n", "7", "-o", "samples.npy", "--seed", "1", cwd=tmp_path
    )
    samples = np.load(tmp_path / "samples.npy")
    assert samples.shape == (7, 64) and np.isfinite(samples).all()


def test_info_prints_config_and_training(workdir):
    text = aekit("info", "model.safetensors", cwd=workdir).stdout
    assert "latent_dim" in text and "best_epoch" in text
    summary = json.loads(aekit("info", "model.safetensors", "--json", cwd=workdir).stdout)
    assert summary["kind"] == "dense"
    assert summary["config"]["latent_dim"] == 3
    assert summary["training"]["epochs"] == 3
    assert summary["parameters"] > 1000


# --- errors: one line, non-zero exit, nothing half-written ------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["encode", "model.safetensors", "missing.csv", "-o", "x.csv"], "'missing.csv' not found"),
        (["encode", "digits.csv", "digits.csv", "-o", "x.csv"], "is not an aekit model file"),
        (["encode", "nothere.safetensors", "digits.csv", "-o", "x.csv"], "does not exist"),
        (["encode", "model.safetensors", "narrow.npy", "-o", "x.csv"], "X has 10 features"),
        (["encode", "model.safetensors", "digits.csv", "-o", "x.docx"], "cannot write"),
        (
            ["encode", "model.safetensors", "digits.csv", "-o", "no/such/dir/x.csv"],
            "does not exist",
        ),
        (["encode", "model.safetensors", "pair.npz", "-o", "x.csv"], "choose one with --key"),
        (["generate", "model.safetensors", "-o", "x.npy"], "needs a variational model"),
        (["encode", "model.safetensors", "empty.csv", "-o", "x.csv"], "could not read"),
        (["encode", "model.safetensors", "header-only.csv", "-o", "x.csv"], "no data rows"),
        (["encode", "model.safetensors", "empty.npy", "-o", "x.csv"], "could not read"),
        (["encode", "model.safetensors", "digits.csv", "-o", "taken.csv"], "taken.csv"),
        (["fit", "digits.csv", "-o", "taken.csv"], "taken.csv"),
        (["fit", "digits.csv", "-o", "m2.safetensors", "--kind", "vae"], "'kind' parameter"),
    ],
)
def test_user_errors_print_one_line_and_exit_non_zero(workdir, args, message):
    before = set(workdir.rglob("*"))
    result = aekit(*args, cwd=workdir, check=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("aekit: error:"), result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert set(workdir.rglob("*")) == before  # nothing written, not even a partial file


def test_debug_shows_the_traceback(workdir):
    result = aekit(
        "encode",
        "model.safetensors",
        "missing.csv",
        "-o",
        "x.csv",
        "--debug",
        cwd=workdir,
        check=False,
    )
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_bad_flags_are_usage_errors(workdir):
    result = aekit(
        "fit", "digits.csv", "-o", "m.safetensors", "--max-epochs", "a", cwd=workdir, check=False
    )
    assert result.returncode == 2 and "argument --max-epochs: 'a' is not int >= 1" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    unknown = aekit("fit", "digits.csv", "--colour", "red", cwd=workdir, check=False)
    assert unknown.returncode == 2
    assert unknown.stderr.strip().splitlines() == [
        "aekit fit: error: the following arguments are required: -o/--output "
        "(see 'aekit fit --help')"
    ]


def test_score_with_a_detector_writes_scores_pvalues_and_labels(data_dir, tmp_path):
    data = np.load(data_dir / "adbench" / "4_breastw.npz")
    np.save(tmp_path / "breastw.npy", data["X"])
    aekit(
        "fit",
        "breastw.npy",
        "-o",
        "det.safetensors",
        "--detector",
        "--false-positive-rate",
        "0.05",
        "--max-epochs",
        "10",
        "--quiet",
        cwd=tmp_path,
    )
    result = aekit("score", "det.safetensors", "breastw.npy", "-o", "scores.csv", cwd=tmp_path)
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert list(scores.columns) == DETECTOR_COLUMNS
    parts = scores.relative_error + scores.code_distance + 5 * scores.hidden_distance
    np.testing.assert_allclose(scores.anomaly_score, parts, rtol=1e-5)
    assert f"{int(scores.is_anomaly.sum())} of {len(scores)} samples flagged" in result.stdout
    assert ((scores.p_value > 0) & (scores.p_value <= 1)).all()
    assert (scores.is_anomaly == (scores.p_value <= 0.05)).all()
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(data["y"], scores.anomaly_score) > 0.8
    text = aekit("info", "det.safetensors", cwd=tmp_path).stdout
    assert "false_positive_rate=0.05" in text
    summary = json.loads(aekit("info", "det.safetensors", "--json", cwd=tmp_path).stdout)
    n_cal = round(0.2 * len(data["X"]))  # the default calibration_fraction
    assert summary["rows_seen"] == {"training": len(data["X"]) - n_cal, "calibration": n_cal}
    assert summary["rows_per_member"] == len(data["X"]) - n_cal  # fewer than 4,096 rows


def test_denoise_and_report_commands(tmp_path):
    aekit(
        "fit",
        "digits-images",
        "-o",
        "den.safetensors",
        "--kind",
        "conv",
        "--noise",
        "gaussian",
        "--noise-level",
        "0.3",
        "--max-epochs",
        "3",
        "--quiet",
        cwd=tmp_path,
    )
    aekit("denoise", "den.safetensors", "digits-images", "-o", "clean.npy", cwd=tmp_path)
    assert np.load(tmp_path / "clean.npy").shape == (1797, 8, 8)
    plain = aekit(
        "fit", "digits", "-o", "plain.safetensors", "--max-epochs", "1", "--quiet", cwd=tmp_path
    )
    assert plain.returncode == 0
    warned = aekit("denoise", "plain.safetensors", "digits", "-o", "x.npy", cwd=tmp_path)
    assert "trained without --noise" in warned.stderr
    aekit("report", "den.safetensors", "digits-images", "-o", "report.html", cwd=tmp_path)
    page = (tmp_path / "report.html").read_text()
    assert '<section id="denoising">' in page
    labels = tmp_path / "labels.npy"
    np.save(labels, load_digits()[1])
    aekit(
        "report",
        "plain.safetensors",
        "digits",
        "--labels",
        "labels.npy",
        "-o",
        "r2.html",
        cwd=tmp_path,
    )
    assert '<section id="latent">' in (tmp_path / "r2.html").read_text()
    bad = aekit(
        "report",
        "plain.safetensors",
        "digits",
        "--label-column",
        "y",
        "-o",
        "r3.html",
        cwd=tmp_path,
        check=False,
    )
    assert bad.returncode == 1 and "is not a column" in bad.stderr
    assert not (tmp_path / "r3.html").exists()
