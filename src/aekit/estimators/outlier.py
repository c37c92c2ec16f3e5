"""``AnomalyDetector``: an ensemble of ``Autoencoder`` members with scikit-learn's
outlier-detector contract, scored by one ``AnomalyScore`` module."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, OutlierMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from aekit.data.loaders import is_table_path
from aekit.data.validation import validate_samples
from aekit.estimators._nested import DefaultSubEstimator
from aekit.estimators._runs import ResumePoint, TrainingRun, check_same_settings, comparable
from aekit.estimators._together import stacks, train_together
from aekit.estimators.autoencoder import (
    INFERENCE_BATCH,
    Autoencoder,
    check_overflow,
    preprocess,
    validated_rows,
)
from aekit.estimators.parameters import AnomalyDetectorParams
from aekit.estimators.thresholds import (
    Thresholded,
    check_calibration_size,
    check_one_rule,
    conformal_pvalues,
    threshold,
)
from aekit.models import BaseAE
from aekit.models.corruption import check_noise
from aekit.models.score import STATISTICS, TERMS, AnomalyScore
from aekit.models.size import check_memory
from aekit.models.stacked import StackedMLP
from aekit.training import History, history_callback
from aekit.training.checkpoint import LoopState
from aekit.training.threads import compute_threads, work_of

ERROR_SCALE_FLOOR = 1e-6  # relative to the largest feature's typical error
AUTO_MAX_SAMPLES = 4096  # max_samples="auto": rows per member, at most
CODE_RIDGE = 1e-6  # added to the code covariance, relative to its mean variance
# saturated tanh units make the hidden layer's covariance near-singular: a larger ridge
HIDDEN_RIDGE = 1e-3
# may change between a checkpoint and resuming it (members must train alike)
DETECTOR_RESUMABLE = frozenset({"verbose", "device"})

# The member Autoencoder tuned for detection (``estimator=None``); chosen on the ADBench
# sets of bench/anomaly_adbench.py, reconstruction error alone unless said otherwise:
DETECTION_DEFAULTS: dict[str, Any] = {
    # saturating units bound the code and the reconstructions, so extreme points get large
    # errors instead of being extrapolated and copied
    "activation": "tanh",
    # a tight 2-D code (4 scored 0.803 against 0.812) behind two narrow layers
    "latent_dim": 2,
    "model_params": {"hidden_dims": (64, 32)},
    # per-feature standardising: "robust" scaling blows a skewed or discrete feature with a
    # tiny interquartile range up to huge values that swamp the rest
    "scale": "standard",
    # PyTorch's default initialisation: its smaller first weights suit these short runs
    # (mean ROC-AUC 0.812 against 0.800 with Glorot's)
    "weight_init": "torch",
    # short training at a high rate: 5 epochs at 2e-2 scored mean ROC-AUC 0.847 and AP
    # 0.450 against 0.836 and 0.438 for 20 epochs at 3e-3, in 0.4x the time (3e-2: 0.845
    # and 0.456; 5e-2 collapses to 0.816 and 0.416; 1e-2: 0.839 and 0.435; three seeds, the
    # 25 candidates of bench/screens/training_budget.json, cross-validated over sets by
    # bench/screen_adbench.py). 3e-2 scored the best AP; 2e-2 keeps away from the collapse.
    # The rate holds whatever the member's kind ("auto" gives a conv member 1e-3)
    "max_epochs": 5,
    "batch_size": 128,
    "learning_rate": 2e-2,
    "weight_decay": 1e-4,
    # no dropout: it blurs the hidden features the hidden distance measures (0.836 against
    # 0.833 with 0.2, full score, two seeds)
    "dropout": 0.0,
    # the best epoch by the training loss: the rows are better spent on training and
    # calibration than on monitoring
    "validation_fraction": 0.0,
    # least trimmed squares: each step leaves out the tenth of its batch the networks
    # reconstruct worst, so anomalies among the (unlabelled) training rows are learnt less
    # and stand out more. Mean AP 0.496 and ROC-AUC 0.853 against 0.450 and 0.847 untrimmed
    # (0.05: 0.478 and 0.848; three seeds), the same out of sample: cross-validated over
    # sets by bench/screen_adbench.py (bench/screens/trim_fraction.json), every fold chose
    # 0.1. Larger shares scored as well or a little better (0.15 to 0.6: AP 0.50 to 0.51)
    # but unlearn rare normal rows once a member trains longer: a member of latent size 8
    # trained 30 epochs scored a mixed table's unseen merchants at ROC-AUC 0.91 and 0.95
    # (seeds 0, 1) with 0.1, 0.84 and 0.90 with 0.15, 0.66 with 0.5 (0.97 untrimmed)
    "trim_fraction": 0.1,
}
# What an image kind's member changes (``default_estimator(kind="strided_conv")``); chosen on
# MNIST one-class runs of digits 0, 5 and 8 (bench/mnist_oneclass.py, which reports all ten):
IMAGE_DETECTION_DEFAULTS: dict[str, Any] = {
    # one range for all pixels ("auto" for images): standardising each pixel blew the rare
    # strokes at a dark border up (digit 0: ROC-AUC 0.913 standardised, 0.959 one range)
    "scale": "auto",
    # a wider code read straight from the maps: its distance carried most of the score
    # (digit 5: code-distance ROC-AUC 0.89 against 0.52 with latent 2 behind (64, 32))
    "latent_dim": 16,
    # narrow maps: 8,000 images fit and score in a third of the time of (32, 64), as well
    "model_params": {"channels": (8, 16), "hidden_dims": ()},
}


class AnomalyDetector(
    DefaultSubEstimator, Thresholded, AnomalyDetectorParams, OutlierMixin, BaseEstimator
):
    """Unsupervised anomaly detection by an ensemble of autoencoders.

    Fit on (mostly) normal data; points the networks reconstruct badly, or whose codes or
    hidden features lie far from the training rows', are anomalies. Like
    ``IsolationForest``, the detector holds its members: ``estimators_`` are complete
    ``Autoencoder`` estimators, each cloned from ``estimator`` and trained on its own
    subsample with its own seed; they share the detector's preprocessing, fitted on all
    training rows. The defaults work without tuning (``bench/anomaly_adbench.py``).

    Signs follow scikit-learn (as in ``IsolationForest``), **not PyOD**:

    - ``score_samples(X)``: higher means more normal; it is ``-anomaly_score(X)``.
    - ``decision_function(X) = score_samples(X) - offset_``: negative for anomalies.
    - ``predict(X)``: ``-1`` for anomalies, ``1`` for normal points.
    - ``anomaly_score(X)``: the positive score, higher means more anomalous.

    PyOD's scores and labels are reversed; to translate::

        pyod_scores = -detector.score_samples(X)  # higher = more anomalous
        pyod_labels = (detector.predict(X) == -1).astype(int)  # 1 = anomaly

    **Score** (``score_module_``, an ``aekit.models.score.AnomalyScore``)::

        anomaly_score = relative_error
                        + latent_weight * code_distance + hidden_weight * hidden_distance

    each term averaged over the members. The **relative error** divides the error of each
    value (the training loss in the scaled space: a squared error for ``loss="mse"``) by
    its median over the rows the member trained on, then averages over the sample's
    values: every feature is measured against how well it is usually reconstructed, so
    neither one with a large variance nor one the network cannot model (pure noise)
    dominates. For a table, errors are summed per original column first. The **code
    distance** is the squared Mahalanobis distance of the sample's code from the member's
    training codes, divided by its median over them (1 is typical): it flags points on the
    data's manifold but far out along it, which a network reconstructs well, as in
    probabilistic PCA's likelihood (a residual plus a Mahalanobis term); on ADBench it
    raised the mean ROC-AUC from 0.812 to about 0.827. The **hidden distance** is the same
    on the encoder's last hidden layer (the features the code is read from): the tight
    code discards much of what the encoder saw, and an anomalous class that forms its own
    small cluster is unusual there even when reconstructed well (optdigits, letter); its
    values spread less than the others' (a sum over many directions), hence the weight of
    5; it raised the mean ROC-AUC from about 0.823 to 0.836. ``explain`` splits the
    relative error over features.

    **Trimmed training.** The training rows are unlabelled, so some of them may be the
    very anomalies to find; a network that learns to reconstruct them no longer flags them.
    Each member's training step therefore leaves out the tenth of its batch it reconstructs
    worst (``trim_fraction=0.1``, least trimmed squares): a stray anomaly rarely enters the
    loss, while the normal rows, the bulk of every batch, are learnt as before. On ADBench
    it raised the mean average precision from 0.450 to 0.496 and the mean ROC-AUC from
    0.847 to 0.853 (thyroid 0.36 to 0.70, shuttle 0.70 to 0.88), the same out of sample
    (``bench/screen_adbench.py``). A larger share did no better on average and, with long
    training, stops learning rare normal rows; ``estimator__trim_fraction=0`` turns it off.

    **Ensemble.** Averaging members removes much of the seed-to-seed noise of
    short-trained networks, and the subsample bounds each member's cost on large data:
    subsamples of a few hundred rows (the IsolationForest recipe) scored no better on
    average than one network, while ``min(n, 4096)`` rows did.

    **Members train together.** Plain dense members (the default) are trained as one
    batched network (``aekit.models.stacked.MemberStack``): every layer is one batched
    matrix product over the members, each member still on its own rows, seed, shuffling,
    gradient clipping, best epoch and early stopping, so the result equals training them
    one after another to float rounding, in a fraction of the time (an ensemble of small
    networks spends its time on per-operation overhead, which the members now share).
    Members that do not stack (conv, variational or sparse) train one after another.

    **Images.** A member of an image kind (``default_estimator(kind="strided_conv")``)
    takes ``IMAGE_DETECTION_DEFAULTS`` and measures an image's error against one typical
    error for all its pixels, not pixel by pixel (``bench/mnist_oneclass.py``).

    **Thresholds.** Give at most one of ``contamination`` and ``false_positive_rate``:

    - ``contamination`` (default "auto" = 0.05): ``offset_`` is the quantile of the
      training scores (all of ``X`` given to ``fit``) that flags that share of them.
    - ``false_positive_rate=alpha``: ``offset_`` is calibrated on a held-out split of the
      training data (``calibration_fraction``; no member trains on it), so that a new
      *normal* point is flagged with probability at most ``alpha`` (split-conformal
      guarantee, valid when the training data is normal and exchangeable with new data).
      ``predict(X) == -1`` exactly where ``pvalues(X) <= alpha``.

    The calibration split is held out in both modes (unless ``calibration_fraction=0``),
    so ``pvalues(X)`` always has honest calibration scores.

    {parameters}

    Attributes
    ----------
    estimators_ : list of Autoencoder
        The fitted members; each can be used, reported and saved on its own.
    score_module_ : AnomalyScore
        The members' networks and score statistics, as one torch module: a batch of
        ``network_inputs`` in, the score's terms out.
    offset_ : float
        ``decision_function = score_samples - offset_``.
    threshold_ : float
        ``-offset_``: anomaly scores above it are anomalies.
    calibration_scores_ : ndarray of shape (n_calibration,)
        Anomaly scores of the held-out calibration samples, sorted (empty without a
        calibration split).
    training_scores_ : ndarray of shape (n_samples,)
        ``score_samples`` of the training data, in its order.
    max_samples_ : int
        Training rows each member trained on (as ``IsolationForest``'s): ``max_samples``
        resolved for the rows ``fit`` was given, after the calibration split.
    interrupted_ : bool
        Training was stopped (``stop``) before every member finished; the detector holds
        the members trained so far.
    scaler_, preprocessor_, sample_shape_
        The preprocessing, fitted on every training row and shared by the members.
    n_features_in_, feature_names_in_
        As in ``Autoencoder``.

    Examples
    --------
    Train on the zeros and score every digit: the others, never seen, score higher.

    >>> from sklearn.metrics import roc_auc_score
    >>> from aekit import AnomalyDetector
    >>> from aekit.datasets import load_digits
    >>> X, y = load_digits()
    >>> detector = AnomalyDetector(contamination=0.05, random_state=0).fit(X[y == 0])
    >>> scores = detector.anomaly_score(X)
    >>> round(float(roc_auc_score(y != 0, scores)), 2)
    1.0
    >>> sorted(set(detector.predict(X).tolist()))
    [-1, 1]
    >>> bool((detector.decision_function(X) < 0).sum() == (detector.predict(X) == -1).sum())
    True
    """

    # --- the member estimator ------------------------------------------------------------

    @staticmethod
    def default_estimator(**params: Any) -> Autoencoder:
        """The member Autoencoder of ``estimator=None``, with ``params`` changed.

        Its parameters are ``DETECTION_DEFAULTS`` over ``Autoencoder``'s own defaults, with
        ``IMAGE_DETECTION_DEFAULTS`` over them for an image kind (``conv``,
        ``strided_conv``); the default ``model_params`` keep only the settings the
        member's ``kind`` has.

        Parameters
        ----------
        **params
            ``Autoencoder`` parameters to change.

        Returns
        -------
        estimator : Autoencoder
        """
        from aekit.models import kind_settings, model_class

        def copied(table: dict[str, Any]) -> dict[str, Any]:  # callers may change the dicts
            return {k: dict(v) if isinstance(v, dict) else v for k, v in table.items()}

        defaults = copied(DETECTION_DEFAULTS)
        kind = params.get("kind", defaults.get("kind", "dense"))
        if model_class(kind).takes_images:
            defaults |= copied(IMAGE_DETECTION_DEFAULTS)
        own = kind_settings(kind)
        settings = {k: v for k, v in defaults["model_params"].items() if k in own}
        defaults["model_params"] = settings or None
        return Autoencoder(**(defaults | params))

    SUB = "estimator"
    SUB_KIND = "kind"
    _sub_default = default_estimator

    @classmethod
    def _parameter_hint(cls, name: str) -> str | None:
        from aekit.params import parameters

        if name not in parameters(Autoencoder):
            return None
        return (
            f"{name} is a parameter of the member Autoencoder: pass estimator="
            f"AnomalyDetector.default_estimator({name}=...), or set_params(estimator__{name}=...)."
        )

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags

    # --- fitting -------------------------------------------------------------------------

    def fit(
        self,
        X: ArrayLike,
        y: object = None,
        *,
        callbacks: list[Callable[[History, torch.nn.Module], bool]] | None = None,
        checkpoint: str | Path | None = None,
        checkpoint_every: int = 1,
        resume: str | Path | None = None,
        stop: threading.Event | None = None,
    ) -> AnomalyDetector:
        """Train the members on ``X`` (mostly normal samples) and set the threshold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), images, a DataFrame (mixed
            columns too), or the path of a Parquet file or folder (a sample of it is used)
        y : ignored
        callbacks : list of callables, optional
            Called after each epoch of each member as ``callback(history, model)``, with
            that member's own history and network; returning True stops that member's
            training (members trained together: the others go on).
        checkpoint : path, optional
            Write a checkpoint here every ``checkpoint_every`` epochs and when training
            ends: for members trained together, every member's state; for members
            trained one after another, the members done, their statistics, and the
            current one's training state (also written after each member).
        checkpoint_every : int, default=1
            Epochs between checkpoints.
        resume : path, optional
            Continue the run saved in this checkpoint: with the same data, parameters and
            seed on CPU, the result equals an uninterrupted run's bit for bit.
        stop : threading.Event, optional
            Set it to end training after the current step; the detector is then built
            from the members trained so far, each with its best weights (members trained
            together: all of them), and ``interrupted_`` is True.

        Returns
        -------
        self : AnomalyDetector
        """
        self._validate_params()
        check_one_rule(self.contamination, self.false_positive_rate)
        template = clone(self.estimator if self.estimator is not None else self.default_estimator())
        template._validate_params()
        check_noise(template.noise, template.noise_level)
        check_gaussian_fits(int(template.latent_dim))  # before training, not after
        for name in ("offset_", "score_module_", "calibration_scores_", "training_scores_"):
            self.__dict__.pop(name, None)  # a refit's checkpoints must not show the last fit
        if is_table_path(X):  # bounded memory: the members train on a sample anyway
            X = self._stream_sample(X, template)
        table = template._uses_table(X)
        X_valid = None if table else validate_samples(self, X, reset=True)
        n_samples = len(X) if X_valid is None else len(X_valid)  # type: ignore[arg-type]
        n_cal = round(n_samples * self.calibration_fraction)
        if n_cal < 1 or n_samples - n_cal < 1:
            n_cal = 0
        if self.false_positive_rate is not None:
            check_calibration_size(
                n_cal,
                float(self.false_positive_rate),
                f"calibration_fraction={self.calibration_fraction} of {n_samples} samples",
            )
        rng = check_random_state(self.random_state)
        order = rng.permutation(n_samples)
        train_rows, cal_rows = np.sort(order[n_cal:]), np.sort(order[:n_cal])
        x_train = self._fit_inputs(template, X, X_valid, train_rows)
        self.max_samples_ = self._member_size(len(x_train))
        if self.verbose:
            print(self._sampling_summary(len(x_train), n_cal), flush=True)
        progress = self._resume_progress(resume) if resume is not None else None
        run = TrainingRun(stop=stop, checkpoint_every=checkpoint_every)
        statistics = self._fit_members(
            MemberFit(template, x_train, rng, run, callbacks or [], progress, checkpoint)
        )
        if not self.estimators_:
            return self  # stopped before a member finished its first epoch: not fitted
        scores = self._terms(X)["anomaly_score"]
        self.training_scores_ = -scores
        self.calibration_scores_ = np.sort(scores[cal_rows])
        self.offset_ = -threshold(
            scores, self.calibration_scores_, self.contamination, self.false_positive_rate
        )
        if checkpoint is not None and not self.interrupted_:  # resuming it gives this detector
            self._save_progress(checkpoint, self.estimators_, statistics, rng.get_state(), None)
        return self

    def _fit_inputs(
        self,
        template: Autoencoder,
        X: Any,
        X_valid: NDArray[np.float32] | None,
        train_rows: NDArray[np.intp],
    ) -> NDArray[np.float32]:
        """Fit the shared preprocessing on the training rows (through ``template``) and take
        it as the detector's own; return those rows in model space."""
        if X_valid is None:  # a mixed table
            x_train = template._fit_preprocessing(X.iloc[train_rows], verbose=self.verbose)
            self.n_features_in_ = template.n_features_in_
            self.feature_names_in_ = template.feature_names_in_
        else:
            x_train = template._fit_scaler(X_valid[train_rows])
            template.n_features_in_ = self.n_features_in_
            if hasattr(self, "feature_names_in_"):
                template.feature_names_in_ = self.feature_names_in_
        self.sample_shape_ = template.sample_shape_
        self.scaler_ = template.scaler_
        self.preprocessor_ = template.preprocessor_
        return x_train

    def _share_inputs(self, member: Autoencoder) -> Autoencoder:
        """Give ``member`` the detector's fitted preprocessing and input attributes."""
        member.sample_shape_ = self.sample_shape_
        member.scaler_ = self.scaler_
        member.preprocessor_ = self.preprocessor_
        member.n_features_in_ = self.n_features_in_
        if hasattr(self, "feature_names_in_"):
            member.feature_names_in_ = self.feature_names_in_
        return member

    def _fit_members(self, fit: MemberFit) -> list[dict[str, NDArray[Any]]]:
        """Train the members, each on its own subsample and seed: together, as one batched
        network, where they stack (plain dense members), else one after another; return
        their score statistics. A checkpoint resumes the way it was made."""
        if fit.progress is not None:
            together = fit.progress.together and fit.progress.members_done < self.n_estimators
        else:
            template = self._share_inputs(fit.template)
            together = stacks(template.kind, template._model_config())
        return self._fit_together(fit) if together else self._fit_one_by_one(fit)

    def _fit_together(self, fit: MemberFit) -> list[dict[str, NDArray[Any]]]:
        """The members trained as one ``MemberStack`` (``train_together``): the rows and
        seeds are drawn as ``_fit_one_by_one`` draws them, so each member trains as it
        would alone."""
        template, x_train, rng = fit.template, fit.x_train, fit.rng
        run, progress = fit.run, fit.progress
        if progress is not None:
            rng.set_state(progress.rng_state)
        rng_state = rng.get_state()  # where a resumed run draws the same members again
        n_member = self._member_size(len(x_train))
        members: list[Autoencoder] = []
        rows: list[NDArray[np.intp]] = []
        splits = []
        for _ in range(self.n_estimators):
            rows.append(np.sort(rng.choice(len(x_train), n_member, replace=False)))
            member = self._share_inputs(clone(template))
            member.verbose = self.verbose
            splits.append(member._split_rows(n_member, rng))
            members.append(member)
        self.interrupted_ = False
        self.estimators_ = members
        if fit.checkpoint is not None:
            path = fit.checkpoint

            def write(state: LoopState) -> None:
                self._save_progress(path, members, [], rng_state, state, together=True)

            run.checkpoint = write
        if progress is not None and progress.current is not None:
            run.resume = ResumePoint(progress.current, {})
        run.label = f"members 1-{self.n_estimators}"
        resume_weights = progress.member_weights if progress is not None else None
        history = train_together(
            members, x_train, rows, splits, run, fit.callbacks, resume_weights or None
        )
        if history.n_epochs == 0:  # stopped before the first epoch ended
            self.estimators_, self.interrupted_ = [], True
            return []
        self.interrupted_ = history.interrupted
        statistics = self._stacked_statistics([m.model_ for m in members], x_train, rows)
        self.score_module_ = self._score_module(members, statistics)
        return statistics

    def _fit_one_by_one(self, fit: MemberFit) -> list[dict[str, NDArray[Any]]]:
        """Train the members one after another, each on its own subsample and seed; return
        their score statistics."""
        template, x_train, rng = fit.template, fit.x_train, fit.rng
        run, progress = fit.run, fit.progress
        checkpoint = fit.checkpoint
        n_member = self._member_size(len(x_train))
        members: list[Autoencoder] = []
        statistics: list[dict[str, NDArray[Any]]] = []
        if progress is not None:
            members = [self._share_inputs(m) for m in progress.members]
            statistics = list(progress.statistics)
            rng.set_state(progress.rng_state)
        loop_callbacks = [history_callback(fn) for fn in fit.callbacks]
        self.interrupted_ = False
        for k in range(len(members), self.n_estimators):
            rng_state = rng.get_state()
            rows = np.sort(rng.choice(len(x_train), n_member, replace=False))
            member = self._share_inputs(clone(template))
            member.verbose = self.verbose
            self.estimators_ = [*members, member]
            resume = None
            if progress is not None and progress.current is not None and k == len(progress.members):
                resume = ResumePoint(progress.current, progress.current_weights)
            write = self._checkpoint_writer(checkpoint, members, statistics, rng_state)
            member._fit_network(
                x_train[rows],
                rng,
                TrainingRun(
                    loop_callbacks,
                    stop=run.stop,
                    checkpoint=write,
                    checkpoint_every=run.checkpoint_every,
                    resume=resume,
                    label=f"member {k + 1}/{self.n_estimators}",
                ),
            )
            stopped = run.stop is not None and run.stop.is_set()
            if member.history_.n_epochs == 0:  # stopped before its first epoch ended
                self.interrupted_ = True
                break
            members.append(member)
            statistics.append(self._member_statistics(member.model_, x_train[rows]))
            if write is not None and not stopped:  # the member is done: resume after it
                self._save_progress(checkpoint, members, statistics, rng.get_state(), None)
            if stopped:
                self.interrupted_ = len(members) < self.n_estimators or (
                    member.history_.interrupted
                )
                break
        self.estimators_ = members
        if members:
            self.score_module_ = self._score_module(members, statistics)
        return statistics

    def _score_module(
        self, members: list[Autoencoder], statistics: list[dict[str, NDArray[Any]]]
    ) -> AnomalyScore:
        stacked = {name: np.stack([s[name] for s in statistics]) for name in statistics[0]}
        stacked["latent_weight"] = np.asarray(self.latent_weight, np.float64)
        stacked["hidden_weight"] = np.asarray(self.hidden_weight, np.float64)
        module = AnomalyScore([m.model_ for m in members], stacked, group=self._group())
        return module.to(members[0]._device()).eval()

    def _group(self) -> torch.Tensor | None:
        """For a table: the matrix summing each encoded input's error into its column."""
        if self.preprocessor_ is None:
            return None
        return torch.from_numpy(self.preprocessor_.group_matrix())

    def _member_statistics(
        self, network: BaseAE, x_scaled: NDArray[np.float32]
    ) -> dict[str, NDArray[Any]]:
        """What a member's scores are measured against, from the rows it trained on: the
        median error of each value or table column (``error_scale``) and the Gaussian of
        its codes and of its hidden features (``code_*``, ``hidden_*``)."""
        x = x_scaled.reshape(len(x_scaled), *network.config.input_shape)
        return self._statistics_of(*_inspect(network, x), one_scale=network.takes_images)

    def _stacked_statistics(
        self,
        networks: list[BaseAE],
        x_train: NDArray[np.float32],
        rows: list[NDArray[np.intp]],
    ) -> list[dict[str, NDArray[Any]]]:
        """``_member_statistics`` of members trained together, member ``k`` on
        ``x_train[rows[k]]``: in one batched pass of the networks where they stack for
        scoring too (any plain dense network but one without an encoder layer)."""
        stacked = StackedMLP.of(networks)
        if stacked is None:
            return [
                self._member_statistics(n, x_train[r]) for n, r in zip(networks, rows, strict=True)
            ]
        index = np.stack(rows)
        device = next(networks[0].parameters()).device
        parts: list[list[NDArray[np.float64]]] = [[], [], []]
        work = work_of(stacked, min(index.shape[1], INFERENCE_BATCH))
        with torch.inference_mode(), compute_threads(work):
            for lo in range(0, index.shape[1], INFERENCE_BATCH):
                x = torch.from_numpy(x_train[index[:, lo : lo + INFERENCE_BATCH]]).to(device)
                for part, out in zip(parts, stacked.inspect(x, per_member=True), strict=True):
                    part.append(out.double().cpu().numpy())
        hidden, codes, error = (np.concatenate(p, axis=1) for p in parts)
        statistics = []
        for k, member_rows in enumerate(rows):
            check_overflow(error[k], x_train[member_rows])
            check_overflow(hidden[k], x_train[member_rows])
            statistics.append(self._statistics_of(hidden[k], codes[k], error[k]))
        return statistics

    def _statistics_of(
        self,
        hidden: NDArray[np.float64],
        codes: NDArray[np.float64],
        error: NDArray[np.float64],
        one_scale: bool = False,
    ) -> dict[str, NDArray[Any]]:
        """A member's statistics from its hidden features, codes and each value's error
        on its training rows. ``one_scale`` (image kinds) measures every value against one
        typical error, the median over the rows of their mean error: a pixel is not a
        feature with its own scale, and dividing by each pixel's median error (near 0 at
        a border that is always dark) let a few stray strokes outweigh the digit."""
        if self.preprocessor_ is not None:  # one scale per original column, not per input
            error = error @ self.preprocessor_.group_matrix()
        if one_scale:
            typical = np.full(error.shape[1], np.median(error.mean(axis=1)))
        else:
            typical = np.median(error, axis=0)
        # a floor keeps a feature the network reconstructs perfectly from exploding the score
        floor = ERROR_SCALE_FLOOR * float(typical.max()) + np.finfo(np.float32).tiny
        error_scale = np.maximum(typical, floor).astype(np.float32).astype(np.float64)
        statistics: dict[str, NDArray[Any]] = {"error_scale": error_scale}
        layers = (("code", codes, CODE_RIDGE), ("hidden", hidden, HIDDEN_RIDGE))
        for name, features, ridge in layers:
            centre, precision, scale = _gaussian(features, ridge)
            statistics |= {f"{name}_mean": centre, f"{name}_precision": precision}
            statistics[f"{name}_scale"] = np.asarray(scale, np.float64)
        return statistics

    def _stream_sample(self, path: Any, template: Autoencoder) -> Any:
        """A uniform sample of a Parquet file or folder, to fit on in memory.

        Its size is ``SAMPLE_ROWS`` (100,000) or, when larger, what the members, the
        validation and the calibration split need: ``n_estimators * max_samples`` rows
        (integer ``max_samples``) or the ``"auto"`` member size ``AUTO_MAX_SAMPLES``, over
        the share left after calibration and validation. Thresholds and p-values are then
        calibrated on the sample's held-out rows.
        """
        from aekit.data.loaders import SAMPLE_ROWS, ParquetSource

        member = AUTO_MAX_SAMPLES if self.max_samples == "auto" else self.max_samples
        kept = (1 - float(self.calibration_fraction)) * (1 - float(template.validation_fraction))
        wanted = SAMPLE_ROWS
        if isinstance(member, Integral):
            wanted = max(wanted, int(np.ceil(self.n_estimators * int(member) / max(kept, 1e-3))))
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        return ParquetSource(Path(str(path))).sample(wanted, seed=seed)

    def _sampling_summary(self, n_train: int, n_cal: int) -> str:
        """What the fit uses of its rows, in words."""
        return (
            f"{self.n_estimators} members, each trained on {self.max_samples_:,} of the "
            f"{n_train:,} training rows (max_samples={self.max_samples!r}); the preprocessing "
            f"fitted on all {n_train:,}; {n_cal:,} rows held out for calibration; the threshold "
            f"from the scores of all {n_train + n_cal:,}"
        )

    def _member_size(self, n_train: int) -> int:
        if self.max_samples == "auto":
            return min(n_train, AUTO_MAX_SAMPLES)
        if isinstance(self.max_samples, Integral):
            return min(n_train, int(self.max_samples))
        return max(1, round(float(self.max_samples) * n_train))

    # --- checkpoints ---------------------------------------------------------------------

    def _checkpoint_writer(
        self,
        path: str | Path | None,
        members: list[Autoencoder],
        statistics: list[dict[str, NDArray[Any]]],
        rng_state: Any,
    ) -> Callable[[LoopState], None] | None:
        """Save the detector so far, with the current member's loop state, at ``path``."""
        if path is None:
            return None

        def write(state: LoopState) -> None:
            current = self.estimators_[-1]
            current.history_ = state.history
            self._save_progress(path, [*members, current], statistics, rng_state, state)

        return write

    def _save_progress(
        self,
        path: str | Path | None,
        members: list[Autoencoder],
        statistics: list[dict[str, NDArray[Any]]],
        rng_state: Any,
        current: LoopState | None,
        *,
        together: bool = False,
    ) -> None:
        from aekit.io.model_file import save
        from aekit.training import distributed

        self.estimators_ = members
        if path is None or not distributed.is_main():  # under torchrun, rank 0 writes
            return
        progress = DetectorProgress(
            members_done=len(statistics),
            statistics=list(statistics),
            rng_state=rng_state,
            current=current,
            together=together,
        )
        save(self, Path(path), training=progress)

    def _resume_progress(self, path: str | Path) -> DetectorProgress:
        """The members and state of a checkpoint made with the same settings."""
        from aekit.io.model_file import load_checkpoint

        saved, progress = load_checkpoint(path)
        check_same_settings(self, saved, path, DETECTOR_RESUMABLE)
        if not isinstance(progress, DetectorProgress):
            raise ValueError(f"checkpoint {path} holds no detector training state")
        progress.members = saved.estimators_[: progress.members_done]
        if progress.current is not None and progress.together:  # every member is under way
            progress.member_weights = [m.model_.state_dict() for m in saved.estimators_]
        elif progress.current is not None:
            progress.current_weights = saved.estimators_[progress.members_done].model_.state_dict()
        return progress

    # --- scores --------------------------------------------------------------------------

    def network_inputs(self, X: Any) -> NDArray[np.float32]:
        """``X`` validated and preprocessed as every member sees it: ``(n, *input_shape)``.

        Parameters
        ----------
        X : array-like
            Samples as ``fit`` took them: rows, images or a DataFrame with the same columns.

        Returns
        -------
        x : ndarray of shape (n_samples, *input_shape), float32
        """
        check_is_fitted(self, "score_module_")
        x, _ = preprocess(self, X)
        return x.reshape(len(x), *self.estimators_[0].model_.config.input_shape)

    def _terms(self, X: Any, per_feature: bool = False) -> dict[str, NDArray[np.float64]]:
        """The score's terms and the score for ``X``, from one pass of each member's network
        over each batch of rows, scaled batch by batch, by the scoring engine
        (``scoring_engine``).

        onnxruntime scores one batch per thread, several batches at once (its small
        products do not gain from being split over threads); torch scores the batches in
        turn, each over torch's threads, in float64 like the statistics, so that memory
        stays bounded and no second thread pool (numpy's BLAS) competes for the cores.
        With ``per_feature``, ``relative_error`` is per value, in X's sample shape (per
        column for a table)."""
        check_is_fitted(self, "score_module_")
        x, shape, to_network = validated_rows(self, X)
        input_shape = self.estimators_[0].model_.config.input_shape
        module = self.score_module_.eval()
        n = len(x)
        n_columns = module.error_scale.shape[1]
        out = {name: np.empty(n, np.float64) for name in ("anomaly_score", *TERMS)}
        if per_feature:  # filled in place, batch by batch: no second copy of the output
            out["relative_error"] = np.empty((n, n_columns), np.float64)
        work = work_of(module, min(n, INFERENCE_BATCH))
        with torch.inference_mode(), compute_threads(work) as threads:
            scorer = self._onnx_scorer(per_feature)

            def score_batch(lo: int) -> None:
                rows = to_network(x[lo : lo + INFERENCE_BATCH]).reshape(-1, *input_shape)
                terms = scorer(rows) if scorer is not None else self._torch_terms(rows, per_feature)
                # every term flows into the score with a weight: a non-finite term makes it
                # non-finite too (inf, or nan where its weight is 0)
                check_overflow(terms["anomaly_score"], rows, lo)
                for name, value in terms.items():
                    out[name][lo : lo + len(rows)] = value

            starts = range(0, n, INFERENCE_BATCH)
            if scorer is None or threads == 1 or len(starts) == 1:
                for lo in starts:
                    score_batch(lo)
            else:
                with ThreadPoolExecutor(threads) as pool:
                    for _ in pool.map(score_batch, starts):  # raises the first batch's error
                        pass
        if per_feature:
            error = out["relative_error"]
            if self.preprocessor_ is None:  # a table's errors are per column already
                error = error.reshape(len(x), *shape)
            out["relative_error"] = error
        return out

    def _torch_terms(self, rows: NDArray[np.float32], per_feature: bool) -> dict[str, Any]:
        """One batch's terms and score by torch, as numpy arrays."""
        module = self.score_module_
        batch = torch.from_numpy(rows).to(self.estimators_[0]._device())
        terms = module.terms(batch, per_feature=per_feature)
        per_sample = dict(terms)
        if per_feature:
            per_sample["relative_error"] = terms["relative_error"].mean(1)
        terms["anomaly_score"] = module.combine(per_sample)
        return {name: value.cpu().numpy() for name, value in terms.items()}

    @property
    def scoring_engine(self) -> str:
        """What computes the scores: ``"onnxruntime"`` or ``"torch"``, by ``AEKIT_ENGINE``
        (``aekit.export.runtime``: onnxruntime by default where it is installed and the
        members are MLPs of one shape, on the CPU)."""
        check_is_fitted(self, "score_module_")
        return "onnxruntime" if self._onnx_scorer() else "torch"

    def _onnx_scorer(self, per_feature: bool = False) -> Any:
        """The onnxruntime scorer of this detector's score module (built once per kind of
        output, kept while the module is the same), or None where torch scores."""
        from aekit.export import runtime

        engine = runtime.engine_setting()
        if engine == "torch":
            return None
        module = self.score_module_
        cache: tuple[Any, dict[bool, Any]] | None
        cache = getattr(self, "_scorer_cache", None)
        if cache is not None and cache[0] is module and per_feature in cache[1]:
            return cache[1][per_feature]
        reason = runtime.why_not(module, self.estimators_[0]._device().type)
        if reason is not None:
            if engine == "onnxruntime":
                raise ValueError(f"AEKIT_ENGINE=onnxruntime cannot score this detector: {reason}")
            return None
        scorer = runtime.OnnxScorer(module, per_feature)
        if cache is None or cache[0] is not module:
            cache = (module, {})
            self._scorer_cache = cache
        cache[1][per_feature] = scorer
        return scorer

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()
        state.pop("_scorer_cache", None)  # an onnxruntime session does not pickle
        return state

    def score_parts(self, X: ArrayLike) -> dict[str, NDArray[Any]]:
        """Everything ``aekit score`` writes for ``X``, the networks run once.

        Parameters
        ----------
        X : array-like
            Samples as ``fit`` took them: rows, images or a DataFrame with the same columns.

        Returns
        -------
        parts : dict of str to ndarray of shape (n_samples,)
            ``anomaly_score``, ``relative_error``, ``code_distance``, ``hidden_distance``,
            ``p_value`` (when there is a calibration split) and ``is_anomaly`` (bool, as
            ``predict(X) == -1``).

        Examples
        --------
        >>> from aekit import AnomalyDetector
        >>> from aekit.datasets import load_digits
        >>> X, _ = load_digits()
        >>> detector = AnomalyDetector(false_positive_rate=0.05, random_state=0).fit(X)
        >>> list(detector.score_parts(X[:5]))  # doctest: +NORMALIZE_WHITESPACE
        ['anomaly_score', 'relative_error', 'code_distance', 'hidden_distance', 'p_value',
         'is_anomaly']
        """
        check_is_fitted(self, "offset_")
        terms = self._terms(X)
        parts: dict[str, NDArray[Any]] = {"anomaly_score": terms["anomaly_score"]}
        parts |= {name: terms[name] for name in TERMS}
        if len(self.calibration_scores_):
            parts["p_value"] = self._pvalues_of(terms["anomaly_score"])
        parts["is_anomaly"] = (-terms["anomaly_score"] - float(self.offset_)) < 0
        return parts

    def anomaly_score(self, X: ArrayLike) -> NDArray[np.float64]:
        """The positive anomaly score: ``relative_error + latent_weight * code_distance +
        hidden_weight * hidden_distance``.

        Higher means more anomalous; ``score_samples(X) == -anomaly_score(X)``, and the
        thresholds, ``calibration_scores_`` and ``pvalues`` are on this scale.

        Parameters
        ----------
        X : array-like
            Samples as ``fit`` took them: rows, images or a DataFrame with the same columns.

        Returns
        -------
        score : ndarray of shape (n_samples,)
        """
        return self._terms(X)["anomaly_score"]

    def relative_error(self, X: ArrayLike, per_feature: bool = False) -> NDArray[np.float64]:
        """The reconstruction part of the score: each value's error over its typical error.

        Each member divides the training loss of each value (in the scaled space; per
        original column for a table) by its median over the rows it trained on; this is
        the mean over the members, and over a sample's values unless ``per_feature``.

        Parameters
        ----------
        X : array-like
            Samples as ``fit`` took them: rows, images or a DataFrame with the same columns.
        per_feature : bool, default=False
            Keep each value's (each column's, for a table) error instead of their mean.

        Returns
        -------
        error : ndarray of shape (n_samples,), or (n_samples, *sample shape) per feature
            (``(n_samples, n_columns)`` for a table). 1 is a typical error.
        """
        return self._terms(X, per_feature=per_feature)["relative_error"]

    def code_distance(self, X: ArrayLike) -> NDArray[np.float64]:
        """How unusual each sample's code is: its squared Mahalanobis distance from the codes
        each member trained on, divided by its median over them (1 is typical), averaged
        over members.

        Parameters
        ----------
        X : array-like
            Samples as ``fit`` took them: rows, images or a DataFrame with the same columns.

        Returns
        -------
        distance : ndarray of shape (n_samples,)
        """
        return self._terms(X)["code_distance"]

    def hidden_distance(self, X: ArrayLike) -> NDArray[np.float64]:
        """How unusual each sample's hidden features are, like ``code_distance``, measured
        on the encoder's last hidden layer (the features the code is read from).

        Parameters
        ----------
        X : array-like
            Samples as ``fit`` took them: rows, images or a DataFrame with the same columns.

        Returns
        -------
        distance : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "score_module_")
        if not self.score_module_.has_hidden:
            raise ValueError(
                "this detector's model file was written before aekit measured hidden "
                "features; refit it to get hidden_distance"
            )
        return self._terms(X)["hidden_distance"]

    def score_samples(self, X: ArrayLike) -> NDArray[np.float64]:
        """Normality score, ``-anomaly_score(X)``: lower means more anomalous.

        Parameters
        ----------
        X : array-like
            Samples as ``fit`` took them: rows, images or a DataFrame with the same columns.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            float64, as scikit-learn's outlier detectors give.
        """
        return -self.anomaly_score(X)

    def decision_function(self, X: ArrayLike) -> NDArray[np.float64]:
        """``score_samples(X) - offset_``: negative for anomalies, positive for normal points.

        Parameters
        ----------
        X : array-like
            Samples as ``fit`` took them: rows, images or a DataFrame with the same columns.

        Returns
        -------
        decision : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "offset_")
        return self.score_samples(X) - float(self.offset_)

    def predict(self, X: ArrayLike) -> NDArray[np.int64]:
        """``-1`` for anomalies (``decision_function < 0``), ``1`` for normal points.

        Parameters
        ----------
        X : array-like
            Samples as ``fit`` took them: rows, images or a DataFrame with the same columns.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return np.where(self.decision_function(X) < 0, -1, 1).astype(np.int64)

    def fit_predict(self, X: ArrayLike, y: object = None, **kwargs: Any) -> NDArray[np.int64]:
        """Fit on ``X`` and return its labels (``-1`` anomaly, ``1`` normal).

        Parameters
        ----------
        X : array-like
            As ``fit`` takes it.
        y : ignored
        **kwargs
            Passed to ``fit``.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return self.fit(X, **kwargs).predict(X)

    def pvalues(self, X: ArrayLike) -> NDArray[np.float64]:
        """Conformal p-values against the held-out calibration scores.

        ``p = (1 + #{calibration scores >= score}) / (n_calibration + 1)``, in (0, 1]: for
        a normal point ``P(p <= alpha) <= alpha``, so flagging ``p <= alpha`` gives at most
        an ``alpha`` false-alarm rate. Small means anomalous.

        Parameters
        ----------
        X : array-like
            Samples as ``fit`` took them: rows, images or a DataFrame with the same columns.

        Returns
        -------
        p : ndarray of shape (n_samples,)

        Examples
        --------
        >>> from aekit import AnomalyDetector
        >>> from aekit.datasets import load_digits
        >>> X, _ = load_digits()
        >>> detector = AnomalyDetector(false_positive_rate=0.05, random_state=0).fit(X)
        >>> p = detector.pvalues(X[:100])
        >>> bool(((p > 0) & (p <= 1)).all())
        True
        """
        check_is_fitted(self, "calibration_scores_")
        self._check_calibrated()
        return self._pvalues_of(self.anomaly_score(X))

    def _check_calibrated(self) -> None:
        if len(self.calibration_scores_) == 0:
            raise ValueError(
                f"pvalues() needs a calibration split, but this {type(self).__name__} was fitted "
                f"with calibration_fraction={self.calibration_fraction}; refit with "
                f"calibration_fraction > 0 (e.g. 0.2)"
            )

    def _pvalues_of(self, scores: NDArray[np.float64]) -> NDArray[np.float64]:
        self._check_calibrated()
        return conformal_pvalues(self.calibration_scores_, scores)

    def explain(self, X: ArrayLike) -> Any:
        """Each sample's relative error per input feature: which features make it unusual.

        Rows average to ``relative_error(X)``, the reconstruction part of the score; the
        rest of ``anomaly_score(X)`` (the weighted code and hidden distances) belongs to no
        single feature. For a table model the features are the original columns used: a
        one-hot group's (levels, hash buckets, unseen input) and a missing indicator's
        errors are summed into their column.

        Parameters
        ----------
        X : array-like
            Samples as ``fit`` took them: rows, images or a DataFrame with the same columns.

        Returns
        -------
        errors : DataFrame or ndarray of shape (n_samples, n_features)
            A pandas DataFrame with X's columns and index when X is a DataFrame, else a
            float64 array (X's shape for images).

        Examples
        --------
        >>> from aekit import AnomalyDetector
        >>> from aekit.datasets import load_digits
        >>> X, _ = load_digits()
        >>> detector = AnomalyDetector(random_state=0).fit(X)
        >>> shares = detector.explain(X[:3])
        >>> shares.shape
        (3, 64)
        """
        error = self.relative_error(X, per_feature=True)
        if hasattr(X, "columns") and hasattr(X, "index"):
            import pandas as pd

            columns = X.columns if self.preprocessor_ is None else self.feature_names_in_
            return pd.DataFrame(error, columns=columns, index=X.index)
        return error

    def save(self, path: str | Path) -> Path:
        """Write the fitted detector to one ``.safetensors`` file (atomically).

        Parameters
        ----------
        path : str or Path

        Returns
        -------
        path : Path
            The file written.
        """
        from aekit.io.model_file import save

        return save(self, path)

    def to_onnx(self, path: str | Path) -> Path:
        """Write the fitted detector as one ONNX graph (atomically): raw samples in, the
        columns ``score_parts`` gives out (scaling, every member, the score and the
        threshold inside); see ``aekit.export.to_onnx``. Needs ``aekit[onnx]``.

        Parameters
        ----------
        path : str or Path
            The ``.onnx`` file to write.

        Returns
        -------
        path : Path
            The file written.
        """
        from aekit.export import to_onnx

        return to_onnx(self, path)

    # --- model files ---------------------------------------------------------------------

    def _to_file(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """The detector's part of a model file: its own parameters (the member estimator's
        resolved, never None), fitted state, preprocessing, members and score statistics."""
        from aekit.estimators.autoencoder import preprocessing_to_file
        from aekit.io.model_file import as_tensors, json_params

        check_is_fitted(self, "estimators_")
        params = self.get_params(deep=False)
        estimator = params.pop("estimator") or self.default_estimator()
        params = json_params(params)
        params["estimator"] = {
            "class": "Autoencoder",
            "params": json_params(estimator.get_params(deep=False)),
        }
        fitted, arrays = preprocessing_to_file(self)
        fitted["n_features_in_"] = int(self.n_features_in_)
        if hasattr(self, "feature_names_in_"):
            fitted["feature_names_in_"] = [str(n) for n in self.feature_names_in_]
        fitted["interrupted_"] = bool(getattr(self, "interrupted_", False))
        tensors: dict[str, torch.Tensor] = {}
        if hasattr(self, "offset_"):
            fitted["offset_"] = float(self.offset_)
            arrays["calibration_scores"] = np.asarray(self.calibration_scores_, np.float64)
            arrays["training_scores"] = np.asarray(self.training_scores_, np.float64)
            tensors |= {
                f"score.{k}": v.detach().cpu().contiguous()
                for k, v in self.score_module_.statistics().items()
            }
        tensors |= as_tensors(arrays, "fitted.")
        members = []
        for i, member in enumerate(self.estimators_):
            body, member_tensors = member._to_file(preprocessing=False)
            members.append(body)
            tensors |= {f"members.{i}.{k}": v for k, v in member_tensors.items()}
        return {"params": params, "fitted": fitted, "members": members}, tensors

    @classmethod
    def _from_file(
        cls, body: dict[str, Any], tensors: dict[str, torch.Tensor], *, checkpoint: bool = False
    ) -> AnomalyDetector:
        """A detector from its part of a model file (``_to_file``); with ``checkpoint``, an
        unfinished one may have no score yet."""
        from aekit.estimators.autoencoder import preprocessing_from_file
        from aekit.exceptions import ModelFileError
        from aekit.io.model_file import finite, params_from_json, with_prefix

        params = dict(body["params"])
        spec = params.pop("estimator")
        if spec.get("class") != "Autoencoder":
            raise ModelFileError(f"unknown member estimator class {spec.get('class')!r}")
        member_params = params_from_json(Autoencoder, spec["params"])
        template = Autoencoder(**member_params)
        mine, default = template.get_params(), cls.default_estimator().get_params()
        same = all(comparable(mine[k]) == comparable(v) for k, v in default.items())
        detector = cls(estimator=None if same else template, **params_from_json(cls, params))
        fitted = body["fitted"]
        arrays = {k: v.numpy() for k, v in with_prefix(tensors, "fitted.").items()}
        detector.sample_shape_, detector.scaler_, detector.preprocessor_ = preprocessing_from_file(
            fitted, arrays
        )
        detector.n_features_in_ = int(fitted["n_features_in_"])
        if "feature_names_in_" in fitted:
            detector.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)
        detector.interrupted_ = bool(fitted.get("interrupted_", False))
        detector.estimators_ = [
            detector._share_inputs(
                Autoencoder._from_file(member, with_prefix(tensors, f"members.{i}."), shared=True)
            )
            for i, member in enumerate(body["members"])
        ]
        if "offset_" not in fitted:
            if not checkpoint:
                raise ModelFileError(
                    "it is the checkpoint of an unfinished detector: continue it with "
                    "fit(X, resume=path) or 'aekit fit ... --resume'"
                )
            return detector
        statistics = {k: v.numpy() for k, v in with_prefix(tensors, "score.").items()}
        unknown = sorted(set(statistics) - set(STATISTICS))
        if unknown:
            raise ModelFileError(f"unknown score statistics {unknown}")
        module = AnomalyScore(
            [m.model_ for m in detector.estimators_], statistics, group=detector._group()
        )
        detector.score_module_ = module.eval()
        detector.offset_ = float(finite(fitted["offset_"], "offset_"))
        for name in ("calibration_scores", "training_scores"):  # sorted ranks: inf is fine
            setattr(detector, f"{name}_", finite(arrays[name], name, infinity=True))
        # not saved: the rule that set it in fit gives it back from the rows the scores cover
        n_train = len(detector.training_scores_) - len(detector.calibration_scores_)
        detector.max_samples_ = detector._member_size(n_train)
        return detector

    @classmethod
    def _progress_from_file(
        cls, tensors: dict[str, torch.Tensor], info: dict[str, Any]
    ) -> DetectorProgress:
        return DetectorProgress.from_file_parts(tensors, info)


@dataclass
class MemberFit:
    """What training the members takes: the member they are cloned from (preprocessing
    fitted), the training rows in model space, the random state, the run (stop request,
    checkpoint cadence), the user's callbacks, and where to resume from and checkpoint to."""

    template: Autoencoder
    x_train: NDArray[np.float32]
    rng: np.random.RandomState
    run: TrainingRun
    callbacks: list[Callable[[History, torch.nn.Module], bool]]
    progress: DetectorProgress | None
    checkpoint: str | Path | None


@dataclass
class DetectorProgress:
    """Where an interrupted detector's training goes on: the members done, their score
    statistics, the random state at the next member's start, and the current member's
    loop state (None between members). Members trained ``together`` are all current:
    none is done until all are, and the loop state is the stack's."""

    members_done: int
    statistics: list[dict[str, NDArray[Any]]]
    rng_state: Any  # numpy RandomState.get_state()
    current: LoopState | None
    together: bool = False
    members: list[Autoencoder] = field(default_factory=list)  # filled when resuming
    current_weights: dict[str, torch.Tensor] = field(default_factory=dict)
    member_weights: list[dict[str, torch.Tensor]] = field(default_factory=list)  # together

    def to_file_parts(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Tensors (``train.*``) and a JSON-safe dictionary, as ``LoopState``'s."""
        name, keys, position, has_gauss, cached = self.rng_state
        tensors = {"train.detector.rng_keys": torch.from_numpy(np.asarray(keys, np.int64))}
        for i, stats in enumerate(self.statistics):
            tensors |= {
                f"train.detector.stats.{i}.{k}": torch.from_numpy(np.array(v))  # keeps 0-d
                for k, v in stats.items()
            }
        info: dict[str, Any] = {
            "detector": {
                "members_done": self.members_done,
                "rng": [str(name), int(position), int(has_gauss), float(cached)],
                "together": self.together,
            }
        }
        if self.current is not None:
            loop_tensors, info["loop"] = self.current.to_file_parts()
            tensors |= loop_tensors
        return tensors, info

    @classmethod
    def from_file_parts(
        cls, tensors: dict[str, torch.Tensor], info: dict[str, Any]
    ) -> DetectorProgress:
        detector = info["detector"]
        done = int(detector["members_done"])
        name, position, has_gauss, cached = detector["rng"]
        keys = tensors["train.detector.rng_keys"].numpy().astype(np.uint32)
        statistics = []
        for i in range(done):
            prefix = f"train.detector.stats.{i}."
            statistics.append(
                {k[len(prefix) :]: v.numpy() for k, v in tensors.items() if k.startswith(prefix)}
            )
        loop = None
        if "loop" in info:
            loop_tensors = {k: v for k, v in tensors.items() if not k.startswith("train.detector.")}
            loop = LoopState.from_file_parts(loop_tensors, info["loop"])
        rng_state = (name, keys, position, has_gauss, cached)
        return cls(done, statistics, rng_state, loop, bool(detector.get("together", False)))


def _inspect(
    network: BaseAE, x: NDArray[np.float32]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """``network.inspect`` over ``x`` in batches: hidden features, codes and each value's
    error, float64, one row per sample."""
    parts: list[list[NDArray[np.float64]]] = [[], [], []]
    device = next(network.parameters()).device
    network.eval()
    with torch.inference_mode(), compute_threads(work_of(network, min(len(x), INFERENCE_BATCH))):
        for lo in range(0, len(x), INFERENCE_BATCH):
            outputs = network.inspect(torch.from_numpy(x[lo : lo + INFERENCE_BATCH]).to(device))
            for part, out in zip(parts, outputs, strict=True):
                part.append(out.double().cpu().numpy())
    hidden, codes, error = (np.concatenate(p) if p else np.empty((0, 0)) for p in parts)
    hidden, error = hidden.reshape(len(x), -1), error.reshape(len(x), -1)
    check_overflow(error, x)
    check_overflow(hidden, x)
    return hidden, codes, error


def _mahalanobis(
    codes: NDArray[np.float64], centre: NDArray[np.float64], precision: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Squared Mahalanobis distance of each row of ``codes``."""
    d = codes - centre
    # a BLAS product, then a row-wise dot: ten times faster than a three-operand einsum
    return np.asarray(np.einsum("ij,ij->i", d @ precision, d), dtype=np.float64)


def check_gaussian_fits(width: int) -> None:
    """A ``width``-dimensional Gaussian needs its covariance, the inverse's work copy and
    the precision: three ``width x width`` float64 matrices."""
    check_memory(
        3 * width * width * 8,
        f"the score's Gaussian of {width:,} code or hidden values needs",
        "(covariance and precision matrices)",
    )


def _gaussian(
    features: NDArray[np.float64], ridge: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Mean, precision matrix and median squared Mahalanobis distance of ``features``' rows.

    ``ridge`` (relative to the mean variance) keeps a collapsed direction from dividing by 0.
    """
    check_gaussian_fits(features.shape[1])
    centre = features.mean(axis=0)
    centred = features - centre
    covariance = centred.T @ centred / len(features)  # np.cov(bias=True), without its overhead
    diagonal = ridge * float(np.trace(covariance)) / len(covariance) + 1e-12
    precision = np.asarray(np.linalg.inv(covariance + diagonal * np.eye(len(covariance))))
    distance = _mahalanobis(features, centre, precision)
    return centre, precision.astype(np.float64), float(max(np.median(distance), 1e-12))
