"""aekit models as MLflow models: a flavour of their own and a pyfunc that scores tables.

``log_model(model, name)`` logs a fitted ``Autoencoder`` or ``AnomalyDetector`` to the
active run (``save_model`` writes one to a folder); ``load_model(uri)`` gives the estimator
back. The model file inside is aekit's own (safetensors and JSON, never pickled). Its
``python_function`` flavour takes a DataFrame and returns the columns ``aekit score``
writes (``aekit.estimators.scoring.score_frame``): a detector's ``anomaly_score``, its
terms, ``p_value`` and ``is_anomaly``, an Autoencoder's ``reconstruction_error``; so the
same model serves over HTTP (``mlflow models serve``) and scores a Spark table of any size
(``mlflow.pyfunc.spark_udf``). The signature and an input example are recorded. Needs
``aekit[mlflow]``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from aekit._version import __version__
from aekit.exceptions import MissingExtraError

FLAVOR_NAME = "aekit"
MODEL_FILE = "model.safetensors"
EXAMPLE_ROWS = 2


def require_mlflow() -> Any:
    """The ``mlflow`` module, or ``MissingExtraError`` saying which extra to install."""
    try:
        import mlflow
        import mlflow.pyfunc
    except ImportError as error:
        raise MissingExtraError(
            f"MLflow models need the mlflow extra ({error.name} is missing): "
            f"pip install 'aekit[mlflow]'"
        ) from None
    return mlflow


def save_model(
    model: Any,
    path: str | Path,
    *,
    input_example: Any = None,
    signature: Any = None,
    pip_requirements: list[str] | None = None,
    extra_pip_requirements: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    mlflow_model: Any = None,
) -> None:
    """Write ``model`` as an MLflow model in the new folder ``path``.

    ``input_example``: a few rows as the pyfunc takes them (a DataFrame); by default
    ``example_input(model)``. ``signature``: by default inferred from the
    example and what the model returns for it. ``pip_requirements``: by default this
    aekit and the extras its pyfunc needs.

    Parameters
    ----------
    model : fitted Autoencoder or AnomalyDetector
    path : str or Path
        A folder that does not exist yet.
    input_example, signature, pip_requirements, extra_pip_requirements, metadata, mlflow_model
        As described above; ``metadata`` and ``mlflow_model`` as in MLflow's own flavours.

    Returns
    -------
    None

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import aekit.mlflow
    >>> from aekit import AnomalyDetector
    >>> from aekit.datasets import load_digits
    >>> X, _ = load_digits()
    >>> detector = AnomalyDetector(n_estimators=2, random_state=0).fit(X)
    >>> folder = Path(tempfile.mkdtemp()) / "detector"
    >>> aekit.mlflow.save_model(detector, folder, input_example=X[:5])
    >>> again = aekit.mlflow.load_model(str(folder))  # the detector itself
    >>> bool((again.anomaly_score(X) == detector.anomaly_score(X)).all())
    True
    >>> import mlflow.pyfunc
    >>> scorer = mlflow.pyfunc.load_model(str(folder))  # what a server or Spark runs
    >>> list(scorer.predict(X[:3]).columns)  # doctest: +NORMALIZE_WHITESPACE
    ['anomaly_score', 'relative_error', 'code_distance', 'hidden_distance', 'p_value',
     'is_anomaly']
    """
    mlflow = require_mlflow()
    from mlflow.models import Model, infer_signature

    input_example = _widened(example_input(model) if input_example is None else input_example)
    if signature is None:
        signature = infer_signature(input_example, predict(model, input_example))
    if pip_requirements is None and extra_pip_requirements is None:
        pip_requirements = [f"aekit[tables]=={__version__}"]
    mlflow_model = Model() if mlflow_model is None else mlflow_model
    mlflow_model.add_flavor(
        FLAVOR_NAME,
        model_file=f"data/{MODEL_FILE}",
        aekit_version=__version__,
        estimator=type(model).__name__,
    )
    with tempfile.TemporaryDirectory() as staging:
        file = model.save(Path(staging) / MODEL_FILE)
        mlflow.pyfunc.save_model(
            str(path),
            loader_module=__name__,
            data_path=str(file),
            mlflow_model=mlflow_model,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            metadata=metadata,
        )


def log_model(
    model: Any,
    name: str = "model",
    *,
    registered_model_name: str | None = None,
    **kwargs: Any,
) -> Any:
    """Log ``model`` to the active MLflow run (one is started if none is); ``kwargs`` as
    ``save_model``'s. Returns MLflow's ``ModelInfo`` (``model_uri`` loads it back).

    Parameters
    ----------
    model : fitted Autoencoder or AnomalyDetector
    name : str, default="model"
        The model's name in the run.
    registered_model_name : str, optional
        Also register it in the model registry under this name.
    **kwargs
        As ``save_model``'s.

    Returns
    -------
    info : mlflow.models.model.ModelInfo

    Examples
    --------
    >>> import tempfile
    >>> import mlflow
    >>> import aekit.mlflow
    >>> from aekit import Autoencoder
    >>> from aekit.datasets import load_digits
    >>> X, _ = load_digits()
    >>> ae = Autoencoder(latent_dim=2, max_epochs=2, random_state=0).fit(X)
    >>> import os
    >>> os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # a local folder as the store
    >>> mlflow.set_tracking_uri(f"file:{tempfile.mkdtemp()}/mlruns")
    >>> with mlflow.start_run():
    ...     info = aekit.mlflow.log_model(ae, "digits", input_example=X[:3])
    >>> again = aekit.mlflow.load_model(info.model_uri)
    >>> bool((again.transform(X) == ae.transform(X)).all())
    True
    """
    require_mlflow()
    import sys

    from mlflow.models import Model

    return Model.log(
        artifact_path=None,
        name=name,
        flavor=sys.modules[__name__],
        registered_model_name=registered_model_name,
        model=model,
        **kwargs,
    )


def load_model(model_uri: str, dst_path: str | None = None) -> Any:
    """The fitted ``Autoencoder`` or ``AnomalyDetector`` logged at ``model_uri``.

    Parameters
    ----------
    model_uri : str
        An MLflow model URI (``runs:/...``, ``models:/...``) or a local folder.
    dst_path : str, optional
        Where to download the model's files.

    Returns
    -------
    model : Autoencoder or AnomalyDetector

    Examples
    --------
    See ``log_model`` (a run's ``model_uri``) and ``save_model`` (a folder).

    >>> import aekit.mlflow
    >>> aekit.mlflow.load_model("runs:/<run id>/model")  # doctest: +SKIP
    Autoencoder(latent_dim=2, max_epochs=2, random_state=0)
    """
    mlflow = require_mlflow()
    from mlflow.models import Model

    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=dst_path))
    flavor = Model.load(str(local / "MLmodel")).flavors.get(FLAVOR_NAME)
    if flavor is None:
        raise ValueError(f"{model_uri} is not an aekit MLflow model (no {FLAVOR_NAME} flavour)")
    return _load_file(local / flavor["model_file"])


def _load_file(path: Path) -> Any:
    from aekit.io.model_file import load

    return load(path)


def _load_pyfunc(data_path: str) -> ScoringModel:
    """MLflow's entry point for the ``python_function`` flavour."""
    return ScoringModel(_load_file(Path(data_path)))


class ScoringModel:
    """The pyfunc: ``predict(DataFrame)`` returns the columns ``aekit score`` writes."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        return predict(self.model, model_input)

    def get_raw_model(self) -> Any:
        """The aekit estimator itself."""
        return self.model


def predict(model: Any, frame: Any) -> Any:
    """Score a DataFrame: identifier columns, then the score columns, on its index."""
    from aekit.estimators.scoring import score_frame

    return score_frame(model, model_input(model, frame))


def model_input(model: Any, frame: Any) -> Any:
    """``frame`` as the estimator takes it: a table model's DataFrame as it is, a model
    with named features the DataFrame, else its values as float32 samples."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame)
    if model.preprocessor_ is not None or getattr(model, "feature_names_in_", None) is not None:
        return frame
    values = frame.to_numpy(dtype=np.float32)
    return values.reshape(len(values), *model.sample_shape_)


def _widened(frame: Any) -> Any:
    """``frame`` as a DataFrame with float64 for every float column: the signature then
    takes doubles, which JSON and Spark give (float32 columns would refuse them)."""
    import pandas as pd

    frame = pd.DataFrame(frame).copy()
    for name in frame.columns:
        if frame[name].dtype.kind == "f":
            frame[name] = frame[name].astype(np.float64)
    return frame


def input_columns(model: Any) -> list[str]:
    """The pyfunc's input columns: the features' names, or ``x0``, ``x1``, ... (one per
    value of a sample, images flattened)."""
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    return [f"x{i}" for i in range(int(np.prod(model.sample_shape_)))]


def example_input(model: Any) -> Any:
    """Two rows in the pyfunc's input format, for MLflow's records: each value the
    scaling's offset (a feature's mean, or the minimum of images), or for a table
    ``TablePreprocessor.typical_rows``."""
    import pandas as pd

    table = model.preprocessor_
    if table is None:
        centre = np.broadcast_to(model.scaler_.offset, model.sample_shape_).reshape(-1)
        row = dict(zip(input_columns(model), centre.astype(np.float64).tolist(), strict=True))
        return pd.DataFrame([row] * EXAMPLE_ROWS)
    return table.typical_rows(EXAMPLE_ROWS)
