"""``AnomalyDetector``: an autoencoder with scikit-learn's outlier-detector contract."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from sklearn.base import OutlierMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from aekit.data.loaders import is_table_path
from aekit.data.validation import validate_samples
from aekit.estimators.autoencoder import INFERENCE_BATCH, Autoencoder, check_overflow
from aekit.models import BaseAE
from aekit.models.corruption import check_noise
from aekit.training import Callback

AUTO_CONTAMINATION = 0.05  # contamination="auto": the classic 95th-percentile rule
ERROR_SCALE_FLOOR = 1e-6  # relative to the largest feature's typical error
AUTO_MAX_SAMPLES = 4096  # max_samples="auto": rows per member, at most
CODE_RIDGE = 1e-6  # added to the code covariance, relative to its mean variance
# saturated tanh units make the hidden layer's covariance near-singular: a larger ridge
HIDDEN_RIDGE = 1e-3


# each member's Gaussian of its codes and of its hidden features, saved in model files
_GAUSSIAN_STATS = tuple(
    f"{layer}_{stat}" for layer in ("code", "hidden") for stat in ("mean", "precision", "scale")
)


def _mahalanobis(
    codes: NDArray[np.float64], centre: NDArray[np.float64], precision: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Squared Mahalanobis distance of each row of ``codes``."""
    d = codes - centre
    # a BLAS product, then a row-wise dot: ten times faster than a three-operand einsum
    return np.asarray(np.einsum("ij,ij->i", d @ precision, d), dtype=np.float64)


def _gaussian(
    features: NDArray[np.float64], ridge: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Mean, precision matrix and median squared Mahalanobis distance of ``features``' rows.

    ``ridge`` (relative to the mean variance) keeps a collapsed direction from dividing by 0.
    """
    centre = features.mean(axis=0)
    covariance = np.atleast_2d(np.cov(features, rowvar=False, bias=True))
    diagonal = ridge * float(np.trace(covariance)) / len(covariance) + 1e-12
    precision = np.asarray(np.linalg.inv(covariance + diagonal * np.eye(len(covariance))))
    distance = _mahalanobis(features, centre, precision)
    return centre, precision.astype(np.float64), float(max(np.median(distance), 1e-12))


def _torch_mahalanobis(
    features: torch.Tensor, centre: torch.Tensor, precision: torch.Tensor
) -> torch.Tensor:
    """``_mahalanobis`` in torch, float64."""
    d = features.double().reshape(len(features), -1) - centre
    return ((d @ precision) * d).sum(1)


@dataclass
class _Terms:
    """The parts of the anomaly score of some samples, averaged over the members."""

    error: NDArray[np.float64]  # (n,), or per value: (n, n_columns) or (n, *sample_shape)
    code: NDArray[np.float64]  # (n,) relative squared Mahalanobis distance of the code
    hidden: NDArray[np.float64]  # (n,) the same for the encoder's last hidden layer


class AnomalyDetector(OutlierMixin, Autoencoder):
    """Unsupervised anomaly detection from autoencoder reconstruction errors.

    Fit on (mostly) normal data; points the network reconstructs badly are anomalies.
    Every ``Autoencoder`` parameter applies (any ``kind``); the defaults below differ
    where anomaly detection on tabular data wants something else, and work without
    tuning (see ``bench/anomaly_adbench.py``).

    Signs follow scikit-learn (as in ``IsolationForest``), **not PyOD**:

    - ``score_samples(X)``: higher means more normal; it is ``-anomaly_score(X)``.
    - ``decision_function(X) = score_samples(X) - offset_``: negative for anomalies.
    - ``predict(X)``: ``-1`` for anomalies, ``1`` for normal points.
    - ``anomaly_score(X)``: the positive score, higher means more anomalous; it is
      ``reconstruction_error(X) + latent_weight * code_distance(X) + hidden_weight *
      hidden_distance(X)``.

    PyOD's scores and labels are reversed; to translate::

        pyod_scores = -detector.score_samples(X)  # higher = more anomalous
        pyod_labels = (detector.predict(X) == -1).astype(int)  # 1 = anomaly

    **Score.** Inputs are standardised per feature (``scale="standard"``), and the error
    of each value (the training loss in that scaled space: a squared error for
    ``loss="mse"``) is divided by its median over the training samples, then averaged
    over the values of a sample. So every feature is measured against how well it is
    usually reconstructed: neither a feature with a large variance in the data's units
    nor one the network cannot model (pure noise) dominates the score. Standardising
    rather than ``"robust"`` scaling: a skewed or discrete feature with a tiny
    interquartile range would blow up to huge scaled values and swamp the rest.

    The score adds a **code distance** to that reconstruction error: the squared
    Mahalanobis distance of the sample's latent code from the codes of the training rows,
    divided by its median over them (so 1 is typical, like each feature's error). The
    two terms catch different anomalies, as in probabilistic PCA's likelihood (a
    residual term plus a Mahalanobis term in the subspace): the reconstruction error
    flags points off the data's manifold, the code distance flags points on it but far
    out along it, which a network reconstructs well (extreme but "in-pattern" values).
    On the ADBench sets of ``bench/anomaly_adbench.py`` the sum raised the mean ROC-AUC
    from 0.812 (reconstruction only) to about 0.827; ``latent_weight=0`` turns it off.

    A **hidden distance** joins them: the same relative Mahalanobis distance, measured on
    the encoder's last hidden layer (the features the code is read from, 32 wide by
    default). The tight 2-D code discards much of what the encoder saw; the hidden
    features keep it, and a point unlike the training rows there is unusual even when
    it is reconstructed well (an anomalous class that forms its own small cluster, as
    in optdigits or letter). Its median-relative values spread less than the other two
    terms (a sum over many directions), hence the weight of 5. On the ADBench sets
    (screened on seeds 0 and 1 from the same fitted networks) it raised the mean ROC-AUC
    from about 0.823 to 0.836; ``hidden_weight=0`` turns it off. ``explain`` splits
    only the reconstruction part over features.
    **Ensemble.** ``n_estimators`` networks are trained, each on its own random subsample
    (without replacement) of at most ``max_samples`` training rows and with its own seed
    drawn from ``random_state``; each member's errors are divided by its own per-value
    medians (over the rows it trained on), its code and hidden distances by their own
    medians, and the score averages the three terms over members.
    Averaging removes much of the seed-to-seed noise of short-trained networks, and the
    subsample bounds each member's cost on large data. The defaults were chosen on the
    ADBench sets of ``bench/anomaly_adbench.py``: there, subsamples of a few hundred rows
    (the IsolationForest recipe against masking) scored no better on average than the
    single network, while ``min(n, 4096)`` rows did.

    **Thresholds.** Give at most one of ``contamination`` and ``false_positive_rate``:

    - ``contamination`` (default "auto" = 0.05): ``offset_`` is the quantile of the
      training scores (all of ``X`` given to ``fit``) that flags that share of them, like
      the classic 95th-percentile rule.
    - ``false_positive_rate=alpha``: ``offset_`` is calibrated on a held-out split of
      the training data (``calibration_fraction``; the network never trains on it), so
      that a new *normal* point is flagged with probability at most ``alpha``
      (split-conformal guarantee, valid when the training data is normal and
      exchangeable with new data). ``predict(X) == -1`` exactly where
      ``pvalues(X) <= alpha``.

    The calibration split is held out in both modes (unless ``calibration_fraction=0``),
    so ``pvalues(X)`` always has honest calibration scores; with
    ``calibration_fraction=0`` (contamination mode only) the network sees all of ``X``
    and ``pvalues`` is unavailable.

    Parameters
    ----------
    kind : str, default="dense"
    contamination : "auto" or float in (0, 0.5], default="auto"
        Expected share of anomalies in the training data; "auto" means 0.05.
    false_positive_rate : float in (0, 1) or None, default=None
        Calibrate the threshold to this false-alarm rate on normal data instead.
    calibration_fraction : float in [0, 1), default=0.2
        Share of the training samples held out for ``pvalues`` and ``false_positive_rate``.
    n_estimators : int, default=5
        Networks in the ensemble.
    latent_weight : float >= 0, default=1.0
        Weight of ``code_distance`` in the score.
    hidden_weight : float >= 0, default=5.0
        Weight of ``hidden_distance`` in the score; with ``latent_weight=0`` as well, the
        score is the reconstruction error alone.
    max_samples : "auto", int or float in (0, 1], default="auto"
        Training rows per network, drawn without replacement from the non-calibration
        rows: an int is a count, a float a share; "auto" means ``min(n, 4096)``.
    latent_dim : int, default=2
        A tight code: the network cannot learn to copy rare points as well (4 scored
        0.803 against 0.812 on ADBench, reconstruction only).
    hidden_dims : tuple of int, default=(64, 32)
    activation : str, default="tanh"
        Saturating units bound the code and the reconstructions, so extreme points get
        large errors instead of being extrapolated and copied. The networks start from
        PyTorch's default initialisation rather than Glorot's (aekit's default for other
        estimators): its smaller first weights suited these short runs (ADBench mean
        ROC-AUC 0.812 against 0.800, reconstruction only).
    dropout : float, default=0.0
        No dropout: it blurs the hidden features the hidden distance measures (ADBench
        mean ROC-AUC 0.836 against 0.833 with 0.2, two seeds).
    weight_decay : float, default=1e-4
    scale : str, default="standard"
    max_epochs : int, default=20
        Short training: an autoencoder memorises the anomalies in its training data late
        (10 epochs was too short: 0.816 against 0.827 on ADBench).
    batch_size : int or "auto", default=128
    validation_fraction : float, default=0.0
        The best epoch is picked on the training loss: anomalies need no held-out
        monitoring, and the samples are better spent on training and calibration.
    **other parameters
        As in ``Autoencoder``.

    Attributes
    ----------
    offset_ : float
        ``decision_function = score_samples - offset_``.
    threshold_ : float
        ``-offset_``: reconstruction errors above it are anomalies.
    calibration_scores_ : ndarray of shape (n_calibration,)
        Anomaly scores of the held-out calibration samples, sorted (empty when there is
        no calibration split).
    models_ : list of BaseAE
        The ``n_estimators`` trained networks; ``models_[0] is model_``, so code that
        uses one network (``transform``, ``reconstruct``, plots) sees the first member.
    error_scale_ : ndarray of shape (n_estimators, n_features) or (n_estimators, *sample shape)
        Median error of each value over the samples each member trained on; that member's
        errors are divided by it. For a table model, of each original column (its encoded
        values' errors summed first), shape (n_estimators, n_columns): a rare category level
        is then measured against its whole column, not against its own near-zero typical
        error.
    code_mean_, code_precision_ : ndarray of shape (n_estimators, latent_dim[, latent_dim])
        Mean and inverse covariance of each member's codes of the rows it trained on.
    code_scale_ : ndarray of shape (n_estimators,)
        Median squared Mahalanobis distance of those codes; distances are divided by it.
    hidden_mean_, hidden_precision_, hidden_scale_ : ndarray
        The same for each member's last hidden layer (``None`` for ``hidden_mean_`` in a
        model file written before the hidden distance).
    training_scores_ : ndarray of shape (n_samples,)
        ``score_samples`` of the training data, in its order.
    model_, scaler_, history_, n_features_in_, feature_names_in_
        As in ``Autoencoder``; ``model_`` and ``history_`` are the first member's, and
        ``scaler_`` is fitted on all non-calibration rows and shared by the members.
    """

    # PyTorch's default init, not Glorot: smaller first weights suit short training here
    _weight_init: ClassVar[str] = "torch"
    hidden_mean_: NDArray[np.float64] | None  # None in files written before hidden_distance
    _parameter_constraints: dict[str, list[Any]] = {  # noqa: RUF012
        **Autoencoder._parameter_constraints,
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "false_positive_rate": [None, Interval(Real, 0, 1, closed="neither")],
        "calibration_fraction": [Interval(Real, 0, 1, closed="left")],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "latent_weight": [Interval(Real, 0, None, closed="left")],
        "hidden_weight": [Interval(Real, 0, None, closed="left")],
        "max_samples": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0, 1, closed="right"),
        ],
    }

    def __init__(
        self,
        kind: str = "dense",
        *,
        contamination: float | str = "auto",
        false_positive_rate: float | None = None,
        calibration_fraction: float = 0.2,
        n_estimators: int = 5,
        max_samples: int | float | str = "auto",
        latent_weight: float = 1.0,
        hidden_weight: float = 5.0,
        latent_dim: int = 2,
        hidden_dims: tuple[int, ...] | None = (64, 32),
        channels: tuple[int, ...] | None = None,
        activation: str = "tanh",
        latent_activation: str = "identity",
        output_activation: str = "auto",
        loss: str = "mse",
        variational: bool = False,
        beta: float = 1.0,
        sparsity: float = 0.0,
        sparsity_penalty: str = "l1",
        sparsity_target: float = 0.05,
        noise: str | None = None,
        noise_level: float = 0.1,
        dropout: float = 0.0,
        scale: str = "standard",
        max_epochs: int = 20,
        batch_size: int | str = 128,
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-4,
        lr_schedule: str = "cosine",
        max_grad_norm: float | None = 10.0,
        validation_fraction: float = 0.0,
        patience: int | None = 10,
        device: str = "auto",
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        categorical: list[str] | None = None,
        ignore: list[str] | None = None,
    ) -> None:
        super().__init__(
            kind,
            latent_dim=latent_dim,
            hidden_dims=hidden_dims,
            channels=channels,
            activation=activation,
            latent_activation=latent_activation,
            output_activation=output_activation,
            loss=loss,
            variational=variational,
            beta=beta,
            sparsity=sparsity,
            sparsity_penalty=sparsity_penalty,
            sparsity_target=sparsity_target,
            noise=noise,
            noise_level=noise_level,
            dropout=dropout,
            scale=scale,
            max_epochs=max_epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            max_grad_norm=max_grad_norm,
            validation_fraction=validation_fraction,
            patience=patience,
            device=device,
            random_state=random_state,
            verbose=verbose,
            categorical=categorical,
            ignore=ignore,
        )
        self.contamination = contamination
        self.false_positive_rate = false_positive_rate
        self.calibration_fraction = calibration_fraction
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.latent_weight = latent_weight
        self.hidden_weight = hidden_weight

    # --- fitting -------------------------------------------------------------------

    def fit(
        self,
        X: ArrayLike,
        y: object = None,
        *,
        callbacks: list[Callback] | None = None,
        checkpoint: str | Path | None = None,
        checkpoint_every: int = 1,
        resume: str | Path | None = None,
        stop: threading.Event | None = None,
    ) -> AnomalyDetector:
        """Train on ``X`` (mostly normal samples) and set the threshold ``offset_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or images
        y : ignored
        callbacks, checkpoint, checkpoint_every, resume, stop
            As in ``Autoencoder.fit``; checkpoints need ``n_estimators=1``. A ``stop``
            request ends training after the current step and keeps the members trained so
            far (``history_.interrupted`` is True).

        Returns
        -------
        self : AnomalyDetector
        """
        self._validate_params()
        if self.false_positive_rate is not None and self.contamination != "auto":
            raise ValueError(
                f"contamination={self.contamination!r} and false_positive_rate="
                f"{self.false_positive_rate!r} were both given; set only one threshold rule"
            )
        check_noise(self.noise, self.noise_level)
        if (checkpoint is not None or resume is not None) and self.n_estimators > 1:
            raise ValueError(
                f"checkpoint and resume work on one network; this detector trains "
                f"n_estimators={self.n_estimators} (set n_estimators=1 to checkpoint)"
            )
        if is_table_path(X):  # bounded memory: the members train on a sample anyway
            X = self._stream_sample(X)
        frame: Any = X
        table = self._uses_table(X)
        X_valid = None if table else validate_samples(self, X, reset=True)
        n_samples = len(frame) if X_valid is None else len(X_valid)
        n_cal = round(n_samples * self.calibration_fraction)
        if n_cal < 1 or n_samples - n_cal < 1:
            n_cal = 0
        if self.false_positive_rate is not None:
            self._check_calibration_size(n_samples, n_cal, float(self.false_positive_rate))
        rng = check_random_state(self.random_state)
        order = rng.permutation(n_samples)
        train_rows, cal_rows = np.sort(order[n_cal:]), np.sort(order[:n_cal])
        if X_valid is None:
            x_train = self._fit_preprocessing(frame.iloc[train_rows])
        else:
            x_train = self._fit_scaler(X_valid[train_rows])
        n_member = self._member_size(len(x_train))
        self.models_: list[BaseAE] = []
        statistics: list[dict[str, Any]] = []
        for _ in range(self.n_estimators):
            rows = np.sort(rng.choice(len(x_train), n_member, replace=False))
            model, history = self._train_network(
                x_train[rows],
                rng,
                callbacks,
                checkpoint=checkpoint,
                checkpoint_every=checkpoint_every,
                resume=resume,
                stop=stop,
            )
            if not self.models_:
                first_history = history
            self.models_.append(model)
            statistics.append(self._member_statistics(model, x_train[rows]))
            if stop is not None and stop.is_set():
                first_history.interrupted = True
                break
        self.model_, self.history_ = self.models_[0], first_history
        for name in statistics[0]:
            setattr(self, f"{name}_", np.stack([member[name] for member in statistics]))
        self._n_features_out = self.latent_dim
        errors = self.anomaly_score(X)
        self.training_scores_ = -errors.astype(np.float64)
        self.calibration_scores_ = np.sort(errors[cal_rows])
        if self.false_positive_rate is not None:
            # flag iff p <= alpha, i.e. the error exceeds the k-th largest calibration error
            k = int(np.floor(self.false_positive_rate * (n_cal + 1) + 1e-9))
            threshold = float(self.calibration_scores_[n_cal - k])
        else:
            share = AUTO_CONTAMINATION if self.contamination == "auto" else self.contamination
            threshold = float(np.quantile(errors, 1.0 - float(share)))
        self.offset_ = -threshold
        return self

    def _stream_sample(self, path: Any) -> Any:
        """A uniform sample of a Parquet file or folder, to fit on in memory.

        Its size is ``SAMPLE_ROWS`` (100,000) or, when larger, what the members, the
        validation and the calibration split need: ``n_estimators * max_samples`` rows
        (integer ``max_samples``) or the ``"auto"`` member size ``AUTO_MAX_SAMPLES``, over
        the share left after calibration and validation. Thresholds and p-values are then
        calibrated on the sample's held-out rows.
        """
        from aekit.data.loaders import SAMPLE_ROWS, ParquetSource

        member = AUTO_MAX_SAMPLES if self.max_samples == "auto" else self.max_samples
        kept = (1 - float(self.calibration_fraction)) * (1 - float(self.validation_fraction))
        wanted = SAMPLE_ROWS
        if isinstance(member, Integral):
            wanted = max(wanted, int(np.ceil(self.n_estimators * int(member) / max(kept, 1e-3))))
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        return ParquetSource(Path(str(path))).sample(wanted, seed=seed)

    def _pvalues_from_errors(self, errors: NDArray[np.float64]) -> NDArray[np.float64]:
        check_is_fitted(self, "calibration_scores_")
        cal = self.calibration_scores_
        if len(cal) == 0:
            raise ValueError(
                f"pvalues() needs a calibration split, but this {type(self).__name__} was fitted "
                f"with calibration_fraction={self.calibration_fraction}; refit with "
                f"calibration_fraction > 0 (e.g. 0.2)"
            )
        n_at_least = len(cal) - np.searchsorted(cal, errors, side="left")
        return np.asarray((1.0 + n_at_least) / (len(cal) + 1.0), dtype=np.float64)

    def _member_size(self, n_train: int) -> int:
        if self.max_samples == "auto":
            return min(n_train, AUTO_MAX_SAMPLES)
        if isinstance(self.max_samples, Integral):
            return min(n_train, int(self.max_samples))
        return max(1, round(float(self.max_samples) * n_train))

    def _member_statistics(self, model: BaseAE, x_scaled: NDArray[np.float32]) -> dict[str, Any]:
        """What a member's scores are measured against, from the rows it trained on: the
        median error of each value (``error_scale``) and the Gaussian of its codes and of
        its hidden features (``code_*``, ``hidden_*``)."""
        x = x_scaled.reshape(len(x_scaled), *self._model_input_shape())
        hidden, codes, error = self._inspect(model, x)
        if self._table() is not None:  # one scale per original column, not per encoded value
            error = self._per_column(error)
        typical = np.median(error, axis=0)
        # a floor keeps a feature the network reconstructs perfectly from exploding the score
        floor = ERROR_SCALE_FLOOR * float(typical.max()) + np.finfo(np.float32).tiny
        statistics: dict[str, Any] = {"error_scale": np.maximum(typical, floor).astype(np.float32)}
        layers = (("code", codes, CODE_RIDGE), ("hidden", hidden, HIDDEN_RIDGE))
        for name, features, ridge in layers:
            centre, precision, scale = _gaussian(features, ridge)
            statistics |= {f"{name}_mean": centre, f"{name}_precision": precision}
            statistics[f"{name}_scale"] = np.float64(scale)
        return statistics

    def _inspect(
        self, model: BaseAE, x: NDArray[np.float32]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """``model.inspect`` over ``x`` in batches: hidden features, codes and each value's
        error, float64, the errors in the data's sample shape."""
        parts: list[list[NDArray[np.float64]]] = [[], [], []]
        device = self._device()
        model.eval()
        with torch.inference_mode():
            for lo in range(0, len(x), INFERENCE_BATCH):
                outputs = model.inspect(torch.from_numpy(x[lo : lo + INFERENCE_BATCH]).to(device))
                for part, out in zip(parts, outputs, strict=True):
                    part.append(out.double().cpu().numpy())
        hidden, codes, error = (np.concatenate(p) if p else np.empty((0, 0)) for p in parts)
        hidden = hidden.reshape(len(x), -1)
        check_overflow(error, x)
        check_overflow(hidden, x)
        return hidden, codes, error.reshape(len(x), *self.sample_shape_)

    def _check_calibration_size(self, n_samples: int, n_cal: int, alpha: float) -> None:
        needed = int(np.ceil(1.0 / alpha - 1.0 - 1e-9))
        if n_cal < max(needed, 1):
            raise ValueError(
                f"false_positive_rate={alpha} needs at least {needed} calibration samples, but "
                f"calibration_fraction={self.calibration_fraction} of {n_samples} samples "
                f"gives {n_cal}; raise calibration_fraction or false_positive_rate, or give "
                f"more data"
            )

    # --- scores --------------------------------------------------------------------

    def _terms(self, X: ArrayLike, per_feature: bool = False) -> tuple[_Terms, tuple[int, ...]]:
        """The score's parts for ``X``, and the shape of one sample's errors.

        One pass of each member's network over each batch of rows, with all the arithmetic
        in torch (float64) so memory stays bounded and no second thread pool (numpy's BLAS)
        competes with torch's for the cores.
        """
        x, shape = self._scaled(X)
        table = self._table()
        device = self._device()
        group = None if table is None else torch.from_numpy(table.group_matrix()).to(device)
        members = [self._member_tensors(m, device) for m in range(len(self.models_))]
        n = len(x)
        error = np.zeros((n, *self.error_scale_.shape[1:]) if per_feature else n, np.float64)
        code, hidden = np.zeros(n, np.float64), np.zeros(n, np.float64)
        with torch.inference_mode():
            for lo in range(0, n, INFERENCE_BATCH):
                rows = slice(lo, min(n, lo + INFERENCE_BATCH))
                batch = torch.from_numpy(x[rows]).to(device)
                sums = self._batch_terms(batch, members, group, per_feature)
                totals = [t.reshape(len(batch), -1).sum(1) for t in sums]
                check_overflow(torch.stack(totals, 1).cpu().numpy(), x[rows], first_row=lo)
                error[rows] = sums[0].cpu().numpy().reshape(error[rows].shape)
                code[rows], hidden[rows] = sums[1].cpu().numpy(), sums[2].cpu().numpy()
        count = len(self.models_)
        terms = _Terms(error / count, code / count, hidden / count)
        return terms, (self.error_scale_.shape[1],) if table is not None else shape

    def _batch_terms(
        self,
        batch: torch.Tensor,
        members: list[dict[str, torch.Tensor]],
        group: torch.Tensor | None,
        per_feature: bool,
    ) -> list[torch.Tensor]:
        """Each term summed over the members for one batch: errors (per value, or each
        sample's mean), code distances and hidden distances."""
        sums: list[torch.Tensor] = []
        for model, stats in zip(self.models_, members, strict=True):
            model.eval()
            features, codes, values = model.inspect(batch)
            values = values.double().reshape(len(batch), -1)
            if group is not None:  # encoded values' errors summed into their columns
                values = values @ group
            values = values / stats["error_scale"]
            parts = [
                values if per_feature else values.mean(1),
                _torch_mahalanobis(codes, stats["code_mean"], stats["code_precision"])
                / stats["code_scale"],
                _torch_mahalanobis(features, stats["hidden_mean"], stats["hidden_precision"])
                / stats["hidden_scale"]
                if "hidden_mean" in stats
                else torch.zeros(len(batch), dtype=torch.float64, device=batch.device),
            ]
            sums = parts if not sums else [a + b for a, b in zip(sums, parts, strict=True)]
        return sums

    def _member_tensors(self, m: int, device: torch.device) -> dict[str, torch.Tensor]:
        """Member ``m``'s fitted statistics as float64 tensors on ``device``."""
        names = ["error_scale", "code_mean", "code_precision", "code_scale"]
        if self.hidden_mean_ is not None:
            names += ["hidden_mean", "hidden_precision", "hidden_scale"]
        out = {}
        for name in names:
            value = np.asarray(getattr(self, f"{name}_")[m], np.float64)
            out[name] = torch.from_numpy(value.reshape(-1) if name == "error_scale" else value)
        return {name: value.to(device) for name, value in out.items()}

    def reconstruction_error(self, X: ArrayLike, per_feature: bool = False) -> NDArray[np.float64]:
        """The reconstruction part of the score: how badly each sample is reconstructed.

        Unlike ``Autoencoder.reconstruction_error`` (data units), the error is the
        training loss of each value after scaling, so features count alike.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        per_feature : bool, default=False
            Return each value's error instead of the mean over a sample.

        Returns
        -------
        error : ndarray of shape (n_samples,), or X's shape with ``per_feature=True``
            Higher means more anomalous; ``anomaly_score(X)`` adds the code distance.
        """
        terms, shape = self._terms(X, per_feature=per_feature)
        if per_feature:
            return terms.error.reshape(len(terms.error), *shape)
        return terms.error

    def code_distance(self, X: ArrayLike) -> NDArray[np.float64]:
        """How unusual each sample's code is: squared Mahalanobis distance, relative.

        For each member, the distance of the sample's latent code from the mean code of
        the rows it trained on (with their covariance), divided by its median over those
        rows (so 1 is typical), averaged over members.

        Returns
        -------
        distance : ndarray of shape (n_samples,)
        """
        return self._terms(X)[0].code

    def hidden_distance(self, X: ArrayLike) -> NDArray[np.float64]:
        """How unusual each sample's hidden features are, like ``code_distance``.

        The same relative squared Mahalanobis distance, measured on the encoder's last
        hidden layer (the features the latent head reads) instead of the code.

        Returns
        -------
        distance : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "hidden_mean_")
        if self.hidden_mean_ is None:
            raise ValueError(
                "this detector's model file was written before aekit measured hidden "
                "features; refit it to get hidden_distance"
            )
        return self._terms(X)[0].hidden

    def anomaly_score(self, X: ArrayLike) -> NDArray[np.float64]:
        """The positive anomaly score: ``reconstruction_error + latent_weight *
        code_distance + hidden_weight * hidden_distance``.

        Higher means more anomalous; ``score_samples(X) == -anomaly_score(X)``, and the
        thresholds, ``calibration_scores_`` and ``pvalues`` are on this scale.

        Returns
        -------
        score : ndarray of shape (n_samples,)
        """
        return self.score_parts(X)[0]

    def score_parts(self, X: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(anomaly_score(X), reconstruction_error(X))``, the networks run once."""
        terms, _ = self._terms(X)
        score = (
            terms.error
            + float(self.latent_weight) * terms.code
            + float(self.hidden_weight) * terms.hidden
        )
        return np.asarray(score, dtype=np.float64), terms.error

    # float64 where Autoencoder gives float32: scikit-learn's outlier checks require it
    def score_samples(self, X: ArrayLike) -> NDArray[np.float64]:  # type: ignore[override]
        """Normality score, ``-anomaly_score(X)``: lower means more anomalous.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            float64, as scikit-learn's outlier detectors give.
        """
        return -self.anomaly_score(X)

    def decision_function(self, X: ArrayLike) -> NDArray[np.float64]:
        """``score_samples(X) - offset_``: negative for anomalies, positive for normal points.

        Returns
        -------
        decision : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "offset_")
        return self.score_samples(X) - float(self.offset_)

    def predict(self, X: ArrayLike) -> NDArray[np.int64]:
        """``-1`` for anomalies (``decision_function < 0``), ``1`` for normal points.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return np.where(self.decision_function(X) < 0, -1, 1).astype(np.int64)

    def fit_predict(self, X: ArrayLike, y: object = None, **kwargs: Any) -> NDArray[np.int64]:
        """Fit on ``X`` and return its labels (``-1`` anomaly, ``1`` normal)."""
        return self.fit(X, **kwargs).predict(X)

    def pvalues(self, X: ArrayLike) -> NDArray[np.float64]:
        """Conformal p-values against the held-out calibration scores.

        ``p = (1 + #{calibration errors >= error}) / (n_calibration + 1)``, in (0, 1]:
        for a normal point ``P(p <= alpha) <= alpha``, so flagging ``p <= alpha`` gives at
        most an ``alpha`` false-alarm rate. Small means anomalous.

        Returns
        -------
        p : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "calibration_scores_")
        return self._pvalues_from_errors(self.anomaly_score(X))

    def explain(self, X: ArrayLike) -> Any:
        """Each sample's error per input feature: which features make a point anomalous.

        Rows average to ``reconstruction_error(X)``, the reconstruction part of the score;
        the rest of ``anomaly_score(X)`` (the weighted code and hidden distances)
        belongs to no single feature. For a table model the features are the original
        columns used: a one-hot group's (levels, hash buckets, unseen input) and a missing
        indicator's errors are summed into their column.

        Returns
        -------
        errors : DataFrame or ndarray of shape (n_samples, n_features)
            A pandas DataFrame with X's columns and index when X is a DataFrame, else a
            float64 array (X's shape for images).
        """
        error = self.reconstruction_error(X, per_feature=True)
        if hasattr(X, "columns") and hasattr(X, "index"):
            import pandas as pd

            columns = X.columns if self._table() is None else self.feature_names_in_
            return pd.DataFrame(error, columns=columns, index=X.index)
        return error

    @property
    def threshold_(self) -> float:
        """Anomaly scores above this are anomalies (``-offset_``)."""
        check_is_fitted(self, "offset_")
        return -float(self.offset_)

    # --- model files ---------------------------------------------------------------

    def _fitted_state(self) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
        state, arrays = super()._fitted_state()
        state["offset_"] = float(self.offset_)
        arrays["calibration_scores"] = np.asarray(self.calibration_scores_, np.float64)
        arrays["training_scores"] = np.asarray(self.training_scores_, np.float64)
        arrays["error_scale"] = np.asarray(self.error_scale_, np.float32)
        for name in _GAUSSIAN_STATS:
            if getattr(self, f"{name}_") is not None:  # None: an old file's missing term
                arrays[name] = np.asarray(getattr(self, f"{name}_"), np.float64)
        return state, arrays

    def _restore_fitted_state(self, state: dict[str, Any], arrays: dict[str, NDArray[Any]]) -> None:
        super()._restore_fitted_state(state, arrays)
        self.offset_ = float(state["offset_"])
        self.calibration_scores_ = np.asarray(arrays["calibration_scores"], np.float64)
        self.training_scores_ = np.asarray(arrays["training_scores"], np.float64)
        if not hasattr(self, "models_"):  # a single network: no members in the file
            self.models_ = [self.model_]
        error_scale = np.asarray(arrays["error_scale"], np.float32)
        if error_scale.ndim == len(self.sample_shape_):  # written before ensembles
            error_scale = error_scale[np.newaxis]
        if len(error_scale) != len(self.models_):
            raise ValueError(
                f"{len(self.models_)} networks but {len(error_scale)} rows of error scales"
            )
        self.error_scale_ = error_scale
        for name in _GAUSSIAN_STATS:
            if name in arrays:
                setattr(self, f"{name}_", np.asarray(arrays[name], np.float64))
        if "code_mean" not in arrays:  # written before the code distance: scored without it
            self.latent_weight = 0.0
            k = self.latent_dim
            self.code_mean_ = np.zeros((len(self.models_), k))
            self.code_precision_ = np.tile(np.eye(k), (len(self.models_), 1, 1))
            self.code_scale_ = np.ones(len(self.models_))
        if "hidden_mean" not in arrays:  # written before the hidden distance: scored without it
            self.hidden_weight = 0.0
            self.hidden_mean_ = None
