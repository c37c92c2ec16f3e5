"""Property tests: whatever arrays or files users throw at aekit, the outcome is a correct
result or a ``ValueError`` with a message, never a raw error from torch or numpy internals."""

from __future__ import annotations

import collections
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from aekit import AnomalyDetector, Autoencoder
from aekit.data.files import read_data

TRIED: collections.Counter[str] = collections.Counter()  # reported at the end of the module
OUTCOMES: collections.Counter[str] = collections.Counter()

DTYPES = st.sampled_from(
    ["float16", "float32", "float64", "int8", "int64", "uint8", "bool", "complex64", "object", "U3"]
)
SPECIAL = st.sampled_from([0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e30, -1e38, 3e38, 1e-30])


@st.composite
def arrays(draw: st.DrawFn, max_dims: int = 5) -> np.ndarray:
    """Arrays of any rank up to ``max_dims``, odd dtypes, sizes from zero, special values."""
    dtype = draw(DTYPES)
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=6))
    if dtype == "object":
        values = draw(
            st.lists(
                st.one_of(st.floats(allow_nan=True), st.text(max_size=3), st.none()),
                min_size=math.prod(shape),
                max_size=math.prod(shape),
            )
        )
        out = np.empty(math.prod(shape), dtype=object)
        out[:] = values
        return out.reshape(shape)
    if dtype == "U3":
        # no NUL: numpy drops a trailing one, and hypothesis then refuses its own draw
        text = st.text(st.characters(exclude_characters="\x00"), max_size=3)
        return draw(hnp.arrays(dtype, shape, elements=text))
    base = draw(
        hnp.arrays(
            "float64",
            shape,
            elements=st.one_of(
                st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False), SPECIAL
            ),
        )
    )
    with np.errstate(invalid="ignore", over="ignore"):
        return base.astype(dtype) if dtype != "bool" else base > 0


@st.composite
def six_wide(draw: st.DrawFn) -> np.ndarray:
    """Rows of the fitted width, with special values and odd float dtypes."""
    n = draw(st.integers(0, 8))
    dtype = draw(st.sampled_from(["float16", "float32", "float64", "int32"]))
    base = draw(
        hnp.arrays(
            "float64",
            (n, 6),
            elements=st.one_of(
                st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False), SPECIAL
            ),
        )
    )
    with np.errstate(invalid="ignore", over="ignore"):
        return base.astype(dtype)


def outcome(kind: str, call: object) -> object:
    """Run ``call``; only a result or a ValueError with a message is acceptable."""
    TRIED[kind] += 1
    try:
        result = call()  # type: ignore[operator]
    except ValueError as error:
        message = str(error)
        assert len(message) > 15 and "Traceback" not in message, message
        OUTCOMES[f"{kind}: {type(error).__name__}"] += 1
        return None
    OUTCOMES[f"{kind}: ok"] += 1
    return result


def budget(n: int) -> settings:
    return settings(
        max_examples=n,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


@pytest.fixture(scope="module")
def fitted() -> Autoencoder:
    rng = np.random.default_rng(0)
    return Autoencoder(
        latent_dim=2, model_params={"hidden_dims": (8,)}, max_epochs=1, random_state=0
    ).fit(rng.random((40, 6)).astype(np.float32))


@budget(60)
@given(X=arrays())
def test_fit_on_anything(X):
    model = Autoencoder(
        latent_dim=2, model_params={"hidden_dims": (4,)}, max_epochs=1, random_state=0
    )
    result = outcome("fit", lambda: model.fit(X))
    if result is not None:  # accepted: then it must be usable and finite
        assert np.isfinite(model.transform(X)).all()


@budget(150)
@given(
    X=st.one_of(arrays(), six_wide()),
    method=st.sampled_from(["transform", "reconstruct", "reconstruction_error", "score_samples"]),
)
def test_inference_on_anything(fitted, X, method):
    result = outcome(method, lambda: getattr(fitted, method)(X))
    if result is not None:
        assert np.isfinite(result).all()
        assert len(result) == len(X)


@budget(60)
@given(Z=arrays(max_dims=3))
def test_inverse_transform_on_anything(fitted, Z):
    result = outcome("inverse_transform", lambda: fitted.inverse_transform(Z))
    if result is not None:
        assert result.shape == (len(Z), 6)


@budget(120)
@given(
    content=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=200).map(str.encode),
        st.tuples(
            st.lists(
                st.lists(
                    st.sampled_from(["1", "2.5", "2,5", "", "nan", "x", "-", '"a;b"', "é"]),
                    min_size=1,
                    max_size=4,
                ),
                max_size=5,
            ),
            st.sampled_from([",", ";", "\t", "|"]),
            st.sampled_from(["utf-8", "latin-1", "utf-8-sig"]),
        ).map(lambda t: "\n".join(t[1].join(r) for r in t[0]).encode(t[2])),
        st.lists(st.sampled_from(['{"a": 1}', '{"a": "x", "b": null}', "{", "[1]", ""])).map(
            lambda lines: "\n".join(lines).encode()
        ),
    ),
    suffix=st.sampled_from([".csv", ".tsv", ".jsonl", ".xlsx", ".npy", ".npz", ".parquet", ".png"]),
)
def test_readers_on_any_file(tmp_path_factory, content, suffix):
    path = tmp_path_factory.mktemp("read") / f"data{suffix}"
    path.write_bytes(content)
    result = outcome(f"read {suffix}", lambda: read_data(path))
    if result is not None:
        model = Autoencoder(
            latent_dim=1, model_params={"hidden_dims": (4,)}, max_epochs=1, random_state=0
        )
        outcome(f"fit {suffix}", lambda: model.fit(result))


@pytest.fixture(scope="module")
def detector() -> AnomalyDetector:
    rng = np.random.default_rng(0)
    return (
        AnomalyDetector(n_estimators=2, random_state=0)
        .set_params(estimator__model_params={"hidden_dims": (8,)}, estimator__max_epochs=1)
        .fit(rng.random((60, 6)).astype(np.float32))
    )


@budget(100)
@given(
    X=st.one_of(arrays(), six_wide()),
    method=st.sampled_from(["decision_function", "predict", "pvalues", "explain"]),
)
def test_detector_on_anything(detector, X, method):
    result = outcome(method, lambda: getattr(detector, method)(X))
    if result is not None:
        assert np.isfinite(np.asarray(result, dtype=np.float64)).all()
        assert len(result) == len(X)


def test_report_counts():
    """Prints how many inputs the properties tried (run with -s to see it)."""
    print("\nproperty tests tried:", dict(TRIED))
    print("outcomes:", dict(sorted(OUTCOMES.items())))
    assert sum(TRIED.values()) > 0
