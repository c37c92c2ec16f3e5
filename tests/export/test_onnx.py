"""ONNX export: onnxruntime's outputs equal aekit's on real data, for every model family."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from aekit import AnomalyDetector, Autoencoder
from aekit.exceptions import ExportError, MissingExtraError
from aekit.export import OPSET, onnx_inputs, to_onnx

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

RTOL = 1e-5


def run(path: Path, feeds: dict[str, Any]) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, feeds), strict=True))


def assert_close(got: np.ndarray, expected: np.ndarray) -> None:
    """Within RTOL of each value, or of the output's largest value for values near 0."""
    expected = np.asarray(expected, np.float64)
    scale = float(np.abs(expected).max()) or 1.0
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=RTOL * scale)


def adbench(data_dir: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    with np.load(data_dir / "adbench" / f"{name}.npz") as data:
        return data["X"].astype(np.float32), data["y"].astype(int)


def test_dense_autoencoder_codes_and_reconstructions_match(tmp_path, digits_split) -> None:
    train, held_out = digits_split
    model = Autoencoder(latent_dim=4, max_epochs=3, random_state=0).fit(train)
    path = model.to_onnx(tmp_path / "dense.onnx")
    exported = onnx.load(str(path))
    onnx.checker.check_model(exported, full_check=True)
    assert {o.domain: o.version for o in exported.opset_import}[""] == OPSET
    out = run(path, onnx_inputs(model, held_out))
    assert_close(out["code"], model.transform(held_out))
    assert_close(out["reconstruction"], model.reconstruct(held_out))
    one = run(path, onnx_inputs(model, held_out[:1]))  # the batch dimension is dynamic
    assert_close(one["code"], model.transform(held_out[:1]))
    props = {p.key: p.value for p in exported.metadata_props}
    assert props["estimator"] == "Autoencoder" and props["kind"] == "dense"


@pytest.mark.parametrize("kind", ["conv", "strided_conv"])
def test_conv_autoencoder_on_digit_images_matches(tmp_path, digit_images, kind) -> None:
    model = Autoencoder(kind, latent_dim=8, max_epochs=2, random_state=0).fit(digit_images)
    out = run(model.to_onnx(tmp_path / "conv.onnx"), onnx_inputs(model, digit_images[:100]))
    assert out["reconstruction"].shape == (100, 8, 8)
    assert_close(out["code"], model.transform(digit_images[:100]))
    assert_close(out["reconstruction"], model.reconstruct(digit_images[:100]))


def test_vae_encoder_gives_the_posterior_mean(tmp_path, digits_split) -> None:
    train, held_out = digits_split
    model = Autoencoder(latent_dim=2, variational=True, max_epochs=3, random_state=0).fit(train)
    out = run(to_onnx(model, tmp_path / "vae.onnx"), onnx_inputs(model, held_out))
    assert_close(out["code"], model.transform(held_out))
    assert_close(out["reconstruction"], model.reconstruct(held_out))


def test_detector_graph_gives_what_aekit_score_writes(tmp_path, data_dir) -> None:
    X, _ = adbench(data_dir, "38_thyroid")
    detector = AnomalyDetector(n_estimators=3, false_positive_rate=0.05, random_state=0)
    detector.set_params(estimator__max_epochs=3).fit(X)
    out = run(detector.to_onnx(tmp_path / "detector.onnx"), onnx_inputs(detector, X))
    expected = detector.score_parts(X)
    assert list(out) == list(expected)
    for name in ("anomaly_score", "relative_error", "code_distance", "hidden_distance"):
        np.testing.assert_allclose(out[name], expected[name], rtol=RTOL)
    # a score within rounding of calibration scores (that sample's own, say, or a tie of
    # duplicate rows) may count them or not: p-values move by at most that many steps
    calibration = detector.calibration_scores_
    steps = np.abs(out["p_value"] - expected["p_value"]) * (len(calibration) + 1)
    score = expected["anomaly_score"]
    near = (np.abs(score[:, None] - calibration[None, :]) <= RTOL * score[:, None]).sum(1)
    assert (steps <= near + 1e-9).all()
    flipped = out["is_anomaly"] != expected["is_anomaly"]
    assert out["is_anomaly"].dtype == bool and flipped.sum() <= 1
    near = np.abs(expected["anomaly_score"][flipped] - detector.threshold_)
    assert (near <= 1e-5 * detector.threshold_).all()


def test_p_values_come_from_a_binary_search_as_numpy_searchsorted() -> None:
    import torch

    from aekit.export.graphs import count_below

    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 64, 1000):
        ordered = np.sort(rng.choice(rng.standard_normal(n // 2 + 1), n))  # with ties
        values = np.concatenate([ordered, rng.standard_normal(50), [-np.inf, np.inf]])
        got = count_below(torch.from_numpy(ordered), torch.from_numpy(values)).numpy()
        np.testing.assert_array_equal(got, np.searchsorted(ordered, values, side="left"))


def thyroid_table(data_dir: Path) -> pd.DataFrame:
    """Real rows made mixed: thyroid's six numbers, one binned into 5 named levels and one
    into 60 (over 20: the rarer ones hashed into buckets), a flag, and gaps in a number, a
    category and the flag."""
    X, _ = adbench(data_dir, "38_thyroid")
    frame = pd.DataFrame(X, columns=[f"v{i}" for i in range(X.shape[1])])
    frame["band"] = pd.cut(frame["v0"], 5, labels=["a", "b", "c", "d", "e"]).astype(object)
    frame["grade"] = "g" + pd.qcut(frame["v3"], 60, labels=False, duplicates="drop").astype(str)
    frame["high"] = frame["v1"] > frame["v1"].median()
    rng = np.random.default_rng(0)
    frame.loc[rng.random(len(frame)) < 0.05, "v2"] = np.nan
    frame.loc[rng.random(len(frame)) < 0.05, "band"] = None
    frame["high"] = frame["high"].astype(object)
    frame.loc[rng.random(len(frame)) < 0.05, "high"] = None
    return frame


def test_mixed_table_detector_encodes_columns_inside_the_graph(tmp_path, data_dir) -> None:
    frame = thyroid_table(data_dir)
    detector = AnomalyDetector(n_estimators=2, random_state=0)
    detector.set_params(estimator__max_epochs=2).fit(frame.iloc[:2500])
    path = detector.to_onnx(tmp_path / "table.onnx")
    scored = frame.iloc[2500:].copy()
    scored.loc[scored.index[:5], "band"] = "never seen"  # the unseen input
    feeds = onnx_inputs(detector, scored)
    assert feeds["band"].dtype.kind == "U" and feeds["v0"].dtype == np.float64
    out = run(path, feeds)
    expected = detector.score_parts(scored)
    for name in ("anomaly_score", "relative_error", "code_distance", "hidden_distance"):
        np.testing.assert_allclose(out[name], expected[name], rtol=RTOL)
    assert np.isnan(feeds["v2"]).any() and (feeds["band"] == "<missing>").any()


def test_table_encoding_graph_equals_the_preprocessor_bit_for_bit(tmp_path, data_dir) -> None:
    from aekit.export.tables import ENCODED, encoding_graph, feeds

    frame = thyroid_table(data_dir)
    model = Autoencoder(max_epochs=1, random_state=0).fit(frame)
    table = model.preprocessor_
    assert table.parts()[-1].statistics["columns"][-1].buckets  # "grade" has hashed levels
    graph = encoding_graph(table, OPSET, onnx.IR_VERSION)
    onnx.checker.check_model(graph, full_check=True)
    onnx.save_model(graph, str(tmp_path / "front.onnx"))
    session = ort.InferenceSession(str(tmp_path / "front.onnx"))
    got = session.run([ENCODED], feeds(table, frame))[0]
    np.testing.assert_array_equal(got, table.transform(frame))


def test_columns_onnx_cannot_express_are_named(tmp_path) -> None:
    rng = np.random.default_rng(0)
    n = 3000
    frame = pd.DataFrame(
        {
            "amount": rng.normal(size=n),
            "when": pd.date_range("2026-01-01", periods=n, freq="h"),
            "customer_name": [f"c{i}" for i in rng.integers(0, 2500, n)],
        }
    )
    model = Autoencoder(max_epochs=1, categorical=["customer_name"], random_state=0).fit(frame)
    target = tmp_path / "model.onnx"
    target.write_bytes(b"a good file")
    with pytest.raises(
        ExportError, match=r"'customer_name' has 1,714 levels.*'when' is a date-time"
    ):
        model.to_onnx(target)
    assert target.read_bytes() == b"a good file"  # nothing written over it
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]  # no partial file left


def test_without_the_extra_the_error_names_it(monkeypatch, tmp_path, digits_split) -> None:
    model = Autoencoder(max_epochs=1, random_state=0).fit(digits_split[0][:200])
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'aekit\[onnx\]'"):
        model.to_onnx(tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
