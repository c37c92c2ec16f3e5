"""``TimeSeriesDetector``: an anomaly score for every timestamp of a series, from an
ensemble of autoencoders over its sliding windows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, OutlierMixin, clone
from sklearn.utils.validation import check_is_fitted

from aekit.data.series import fill_gaps
from aekit.data.windows import CoverMean, causal_padding, runs, sliding
from aekit.estimators._nested import DefaultSubEstimator
from aekit.estimators._series import SeriesInputs, network_batches, network_rows
from aekit.estimators.outlier import AnomalyDetector
from aekit.estimators.parameters import TimeSeriesDetectorParams
from aekit.estimators.thresholds import (
    Thresholded,
    check_calibration_size,
    check_one_rule,
    conformal_pvalues,
    threshold,
)
from aekit.exceptions import InputError

MAX_CALIBRATION_BLOCKS = 5  # held-out blocks of time, spread over the series


class TimeSeriesDetector(
    DefaultSubEstimator,
    SeriesInputs,
    Thresholded,
    TimeSeriesDetectorParams,
    OutlierMixin,
    BaseEstimator,
):
    """Anomaly detection on a series, one score per timestamp.

    The series (a 1-D array, an ``(n_timestamps, n_channels)`` array or a DataFrame: see
    ``aekit.data.series``) is standardised per channel, cut into sliding windows of
    ``window`` timestamps, and an ``AnomalyDetector`` (``detector``) learns the windows.
    A window's score is the detector's (relative reconstruction error plus code and hidden
    distances: see ``AnomalyDetector``). ``scoring="offline"`` gives a timestamp the mean
    score of every window that covers it; ``"causal"`` the score of the window that ends at
    it, so that a live feed is scored as it arrives (``scorer``), a little late: the window
    ending at t is centred half a window before t, and it cannot see what follows t, so it
    ranks anomaly windows centred on their events (NAB's) well below offline scoring (the
    user guide's time-series page gives the measured cost). (Giving a timestamp only its own
    position's error within each window localises a spike more sharply, but ranked the
    labelled stretches of NAB's series worse in an earlier run of ``bench/timeseries.py``:
    mean VUS-PR 0.341 against 0.545 for the window means, with untrimmed members.) Either
    way, a series scored in pieces gets the scores of the series scored whole. ``explain``
    splits each timestamp's own reconstruction error over the channels.

    Signs are scikit-learn's, as in ``AnomalyDetector``: ``anomaly_score`` is higher for
    anomalies, ``score_samples = -anomaly_score``, ``decision_function`` is negative and
    ``predict`` is ``-1`` for anomalies. Every per-timestamp output is aligned with the
    rows of ``X``.

    **Thresholds** hold on series: the calibration scores come from up to
    ``MAX_CALIBRATION_BLOCKS`` contiguous blocks of time (``calibration_fraction`` of the
    series in all, the last one at its end) that no training window touches, so no
    calibration value was seen in training. ``false_positive_rate`` calibrates on them
    (conformal, as for tables: exact for exchangeable scores; neighbouring timestamps'
    scores are correlated, so the rate holds on average over a long series rather than
    for each stretch); ``contamination`` flags that share of the training series' scores.
    Fit on a known-normal stretch (semi-supervised: ``false_positive_rate`` then means
    false alarms on normal data) or on the whole series with some anomalies inside
    (unsupervised: set ``contamination`` to their expected share).

    **Messy series.** Missing values (NaN) are filled with the channel's last value
    (before any, with its training mean), causally, so filling in pieces equals filling
    whole; rows are taken as equally spaced steps in the order given: resample a series
    sampled irregularly first (``frame.resample("1min").mean()``; the gaps it leaves are
    filled as above). A constant channel is kept (scale 1: any change in it shows as
    error). Timestamps that do not increase, text in a channel, an infinite value, a
    channel with no value and a series shorter than a window are refused, by name.

    {parameters}

    Attributes
    ----------
    detector_ : AnomalyDetector
        The fitted detector of windows (rows: windows flattened timestamp-major, channels
        within each timestamp).
    window_ : int
        Timestamps per window (``window`` resolved).
    scaler_ : Scaler
        Per-channel standardisation, fitted on the training timestamps.
    channels_ : list of str
        The channel names (``channel_K`` for arrays); ``n_features_in_`` counts them.
    calibration_blocks_ : list of (int, int)
        The held-out blocks, as ``[start, stop)`` rows of the series given to ``fit``.
    calibration_scores_ : ndarray
        Sorted anomaly scores of the calibration timestamps.
    training_scores_ : ndarray of shape (n_timestamps,)
        ``score_samples`` of the series given to ``fit``.
    offset_ : float
        ``decision_function = score_samples - offset_``.

    Examples
    --------
    A sine wave with a glitch: the flagged interval covers it.

    >>> import numpy as np
    >>> from aekit import TimeSeriesDetector
    >>> t = np.arange(3000)
    >>> series = np.sin(2 * np.pi * t / 50) + 0.05 * np.random.default_rng(0).standard_normal(3000)
    >>> series[2500:2510] += 1.5
    >>> detector = TimeSeriesDetector(window=50, contamination=0.01, random_state=0).fit(series)
    >>> detector.anomaly_score(series).shape  # one score per timestamp
    (3000,)
    >>> found = detector.intervals(series)
    >>> bool(((found.start_row <= 2509) & (found.end_row >= 2500)).any())
    True
    """

    @staticmethod
    def default_detector(kind: str = "dense", **params: Any) -> AnomalyDetector:
        """The detector of windows of ``detector=None``: ``AnomalyDetector``'s defaults, its
        members of ``kind`` (``"temporal_conv"`` and ``"recurrent"`` read the windows' steps
        in order) without scaling of their own (the series is scaled per channel).

        Parameters
        ----------
        kind : str, default="dense"
            The member network's kind (a window kind of ``aekit.list_models()``).
        **params
            ``AnomalyDetector`` parameters to change.

        Returns
        -------
        detector : AnomalyDetector
        """
        member = AnomalyDetector.default_estimator(scale="none", kind=kind)
        return AnomalyDetector(**({"estimator": member} | params))

    SUB = "detector"
    SUB_KIND = "estimator__kind"
    _sub_default = default_detector

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    # --- fitting -------------------------------------------------------------------------

    def fit(self, X: ArrayLike, y: object = None, **training: Any) -> TimeSeriesDetector:
        """Learn the windows of the series ``X`` and set the threshold.

        Parameters
        ----------
        X : array of shape (n_timestamps,) or (n_timestamps, n_channels), or a DataFrame
            The series, mostly normal (see the class docstring).
        y : ignored
        **training
            Passed to the detector of windows' ``fit`` (``AnomalyDetector.fit``):
            ``callbacks``, ``checkpoint``, ``checkpoint_every``, ``resume`` (the same
            series and parameters give the same windows) and ``stop``.

        Returns
        -------
        self : TimeSeriesDetector
        """
        self._validate_params()
        check_one_rule(self.contamination, self.false_positive_rate)
        series = self._series(X)
        n = series.n_timestamps
        window = self._window_for(series)
        blocks = calibration_blocks(n, window, self.calibration_fraction)
        held_out = np.zeros(n, bool)
        for start, stop in blocks:
            held_out[start:stop] = True
        n_cal = int(held_out.sum())
        if self.false_positive_rate is not None:
            check_calibration_size(
                n_cal,
                float(self.false_positive_rate),
                f"calibration_fraction={self.calibration_fraction} of {n} timestamps",
            )
        x = self._fit_inputs(series, window, series.values[~held_out])
        starts = training_starts(n, window, int(self.stride), blocks)
        if self.verbose:
            print(
                f"window {window} ({self.window!r}); {len(starts):,} training windows "
                f"(stride {self.stride}) of {n:,} timestamps; {n_cal:,} timestamps in "
                f"{len(blocks)} calibration block(s)",
                flush=True,
            )
        template = self.detector if self.detector is not None else self.default_detector()
        self.detector_ = clone(template).set_params(
            calibration_fraction=0.0,
            contamination="auto",
            false_positive_rate=None,
            random_state=self.random_state,
            verbose=self.verbose,
        )
        kind = self.detector_.get_params()["estimator__kind"]
        self.detector_.fit(network_rows(sliding(x, window)[starts], kind), **training)
        if not hasattr(self.detector_, "score_module_"):
            return self  # stopped before a member finished an epoch: not fitted
        self.calibration_blocks_ = blocks
        scores = self._scores_of_filled(x)[0]
        self.training_scores_ = -scores
        self.calibration_scores_ = np.sort(scores[held_out])
        self.offset_ = -threshold(
            scores, self.calibration_scores_, self.contamination, self.false_positive_rate
        )
        return self

    def _network_kind(self) -> str:
        return str(self.detector_.estimators_[0].kind)

    # --- scoring -------------------------------------------------------------------------

    def scorer(self, scoring: str | None = None) -> SeriesScorer:
        """A scorer for a series that arrives in pieces (``scoring`` defaults to the
        detector's): ``update(piece)`` returns the scores of the timestamps it can settle,
        ``finish()`` the rest. The pieces' scores, joined, equal the whole series'.

        Parameters
        ----------
        scoring : {"offline", "causal"}, optional
            The detector's ``scoring`` by default.

        Returns
        -------
        scorer : SeriesScorer
        """
        check_is_fitted(self, "offset_")
        return SeriesScorer(self, scoring or self.scoring)

    def _scores_of_filled(
        self, x: NDArray[np.float32], scoring: str | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        scorer = SeriesScorer(self, scoring or self.scoring)
        parts = [scorer.update_scaled(x), scorer.finish()]
        return (
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
        )

    def _parts(self, X: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Each timestamp's anomaly score and its channels' relative errors."""
        x = self._read(X)
        if self.scoring == "offline" and len(x) < self.window_:
            raise InputError(
                f"X has {len(x)} timestamps, fewer than a window ({self.window_}); offline "
                f"scoring needs at least one window: score a longer stretch, or use "
                f"scorer() with the series before it"
            )
        return self._scores_of_filled(x)

    def anomaly_score(self, X: ArrayLike) -> NDArray[np.float64]:
        """The anomaly score of each timestamp: higher means more anomalous.

        Parameters
        ----------
        X : array of shape (n_timestamps,) or (n_timestamps, n_channels), or a DataFrame
            A series like the one ``fit`` took (the same channels; a DataFrame's time column
            or ``DatetimeIndex`` as in ``fit``).

        Returns
        -------
        score : ndarray of shape (n_timestamps,)
        """
        return self._parts(X)[0]

    def score_samples(self, X: ArrayLike) -> NDArray[np.float64]:
        """``-anomaly_score(X)``: lower means more anomalous.

        Parameters
        ----------
        X : array of shape (n_timestamps,) or (n_timestamps, n_channels), or a DataFrame
            A series like the one ``fit`` took (the same channels; a DataFrame's time column
            or ``DatetimeIndex`` as in ``fit``).

        Returns
        -------
        scores : ndarray of shape (n_timestamps,)
        """
        return -self.anomaly_score(X)

    def decision_function(self, X: ArrayLike) -> NDArray[np.float64]:
        """``score_samples(X) - offset_``: negative for anomalies.

        Parameters
        ----------
        X : array of shape (n_timestamps,) or (n_timestamps, n_channels), or a DataFrame
            A series like the one ``fit`` took (the same channels; a DataFrame's time column
            or ``DatetimeIndex`` as in ``fit``).

        Returns
        -------
        decision : ndarray of shape (n_timestamps,)
        """
        return self.score_samples(X) - float(self.offset_)

    def predict(self, X: ArrayLike) -> NDArray[np.int64]:
        """``-1`` for anomalous timestamps, ``1`` for normal ones.

        Parameters
        ----------
        X : array of shape (n_timestamps,) or (n_timestamps, n_channels), or a DataFrame
            A series like the one ``fit`` took (the same channels; a DataFrame's time column
            or ``DatetimeIndex`` as in ``fit``).

        Returns
        -------
        labels : ndarray of shape (n_timestamps,)
        """
        return np.where(self.decision_function(X) < 0, -1, 1).astype(np.int64)

    def fit_predict(self, X: ArrayLike, y: object = None, **kwargs: Any) -> NDArray[np.int64]:
        """Fit on ``X`` and return its labels (``-1`` anomaly, ``1`` normal).

        Parameters
        ----------
        X : array of shape (n_timestamps,) or (n_timestamps, n_channels), or a DataFrame
        y : ignored
        **kwargs
            Passed to ``fit``.

        Returns
        -------
        labels : ndarray of shape (n_timestamps,)
        """
        return self.fit(X, **kwargs).predict(X)

    def score_parts(self, X: ArrayLike) -> dict[str, NDArray[Any]]:
        """Everything ``aekit score`` writes for ``X``, the networks run once.

        Parameters
        ----------
        X : array of shape (n_timestamps,) or (n_timestamps, n_channels), or a DataFrame
            A series like the one ``fit`` took (the same channels; a DataFrame's time column
            or ``DatetimeIndex`` as in ``fit``).

        Returns
        -------
        parts : dict of str to ndarray of shape (n_timestamps,)
            ``anomaly_score``, ``p_value`` (with calibration blocks) and ``is_anomaly``
            (bool, as ``predict(X) == -1``).
        """
        return self.parts_of(self.anomaly_score(X))

    def parts_of(self, scores: NDArray[np.float64]) -> dict[str, NDArray[Any]]:
        """``score_parts`` from anomaly scores already computed (by ``scorer``, say).

        Parameters
        ----------
        scores : ndarray of shape (n_timestamps,)
            Anomaly scores.

        Returns
        -------
        parts : dict of str to ndarray
            ``anomaly_score``, ``p_value`` (with a calibration split) and ``is_anomaly``.
        """
        check_is_fitted(self, "offset_")
        parts: dict[str, NDArray[Any]] = {"anomaly_score": scores}
        if len(self.calibration_scores_):
            parts["p_value"] = conformal_pvalues(self.calibration_scores_, scores)
        parts["is_anomaly"] = scores > self.threshold_
        return parts

    def pvalues(self, X: ArrayLike) -> NDArray[np.float64]:
        """Conformal p-values of each timestamp against the calibration blocks' scores
        (small means anomalous; see ``AnomalyDetector.pvalues``).

        Parameters
        ----------
        X : array of shape (n_timestamps,) or (n_timestamps, n_channels), or a DataFrame
            A series like the one ``fit`` took (the same channels; a DataFrame's time column
            or ``DatetimeIndex`` as in ``fit``).

        Returns
        -------
        p : ndarray of shape (n_timestamps,)
        """
        check_is_fitted(self, "offset_")
        if len(self.calibration_scores_) == 0:
            raise ValueError(
                f"pvalues() needs calibration blocks, but this detector was fitted with "
                f"calibration_fraction={self.calibration_fraction}; refit with "
                f"calibration_fraction > 0 (e.g. 0.2)"
            )
        return conformal_pvalues(self.calibration_scores_, self.anomaly_score(X))

    def explain(self, X: ArrayLike) -> Any:
        """Each channel's share of each timestamp's reconstruction error (rows sum to 1).

        Parameters
        ----------
        X : array of shape (n_timestamps,) or (n_timestamps, n_channels), or a DataFrame
            A series like the one ``fit`` took (the same channels; a DataFrame's time column
            or ``DatetimeIndex`` as in ``fit``).

        Returns
        -------
        shares : DataFrame of shape (n_timestamps, n_channels)
            Columns are the channels, the index is X's (a ``RangeIndex`` for arrays).
        """
        import pandas as pd

        shares = channel_shares(self._parts(X)[1])
        index = X.index if hasattr(X, "index") and hasattr(X, "columns") else None
        return pd.DataFrame(shares, columns=self.channels_, index=index)

    def intervals(self, X: ArrayLike) -> Any:
        """The flagged stretches of ``X``: runs of timestamps ``predict`` marks ``-1``.

        Parameters
        ----------
        X : array of shape (n_timestamps,) or (n_timestamps, n_channels), or a DataFrame
            A series like the one ``fit`` took (the same channels; a DataFrame's time column
            or ``DatetimeIndex`` as in ``fit``).

        Returns
        -------
        intervals : DataFrame
            One row per run, in time order: ``start`` and ``end`` (the time labels of its
            first and last timestamp: X's ``DatetimeIndex``, its time column, or row
            numbers), ``start_row`` and ``end_row`` (positions, inclusive), ``peak`` and
            ``peak_score`` (where the anomaly score is highest, and that score) and
            ``n_timestamps``.
        """
        import pandas as pd

        series = self._series(X)
        scores = self.anomaly_score(X)
        spans = np.array(runs(scores > self.threshold_), dtype=np.intp).reshape(-1, 2)
        starts, stops = spans[:, 0], spans[:, 1]
        peaks = np.array(
            [a + int(np.argmax(scores[a:b])) for a, b in zip(starts, stops, strict=True)],
            dtype=np.intp,
        )
        return pd.DataFrame(
            {
                "start": series.labels(starts),
                "end": series.labels(stops - 1),
                "start_row": starts,
                "end_row": stops - 1,
                "peak": series.labels(peaks),
                "peak_score": scores[peaks] if len(peaks) else np.empty(0),
                "n_timestamps": stops - starts,
            }
        )

    # --- model files ---------------------------------------------------------------------

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

    def _to_file(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """The detector's part of a model file: its parameters, its series state, and the
        detector of windows' own part (tensors under ``detector.``)."""
        from aekit.io.model_file import as_tensors, json_params

        check_is_fitted(self, "offset_")
        params = json_params(self.get_params(deep=False) | {"detector": None})
        inner, inner_tensors = self.detector_._to_file()
        fitted, arrays = self._inputs_to_file()
        fitted |= {
            "calibration_blocks_": [[int(a), int(b)] for a, b in self.calibration_blocks_],
            "offset_": float(self.offset_),
            "custom_detector": self.detector is not None,
        }
        arrays["calibration_scores"] = np.asarray(self.calibration_scores_, np.float64)
        arrays["training_scores"] = np.asarray(self.training_scores_, np.float64)
        tensors = as_tensors(arrays, "fitted.")
        tensors |= {f"detector.{k}": v for k, v in inner_tensors.items()}
        return {"params": params, "fitted": fitted, "detector": inner}, tensors

    @classmethod
    def _from_file(
        cls, body: dict[str, Any], tensors: dict[str, torch.Tensor], *, checkpoint: bool = False
    ) -> TimeSeriesDetector:
        """A detector from its part of a model file (``_to_file``)."""
        from aekit.io.model_file import finite, params_from_json, with_prefix

        params = params_from_json(cls, body["params"])
        inner = AnomalyDetector._from_file(body["detector"], with_prefix(tensors, "detector."))
        fitted = body["fitted"]
        if fitted["custom_detector"]:
            params["detector"] = clone(inner)
        detector = cls(**params)
        detector.detector_ = inner
        arrays = {k: v.numpy() for k, v in with_prefix(tensors, "fitted.").items()}
        detector._inputs_from_file(fitted, arrays, inner.n_features_in_)
        detector.calibration_blocks_ = [(int(a), int(b)) for a, b in fitted["calibration_blocks_"]]
        detector.offset_ = float(finite(fitted["offset_"], "offset_"))
        for name in ("calibration_scores", "training_scores"):
            setattr(detector, f"{name}_", finite(arrays[name], name, infinity=True))
        return detector


class SeriesScorer:
    """Scores a series that arrives in pieces, as ``TimeSeriesDetector`` scores it whole.

    ``update(piece)`` takes the next rows (an array or DataFrame like those ``fit`` took)
    and returns a dict with ``anomaly_score`` and ``channel_errors`` for the timestamps it
    can settle: causal scoring settles every row at once; offline scoring settles a row
    once no later window covers it (``window - 1`` rows later), and ``finish()`` settles
    the last ones. Rows are counted from the first update.
    """

    def __init__(self, detector: TimeSeriesDetector, scoring: str) -> None:
        if scoring not in ("offline", "causal"):
            raise ValueError(f"scoring={scoring!r} is not one of offline, causal")
        self.detector = detector
        self.scoring = scoring
        self.window = int(detector.window_)
        self.kind = detector._network_kind()
        self.tail: NDArray[np.float32] | None = None  # the last window - 1 rows seen
        self.last = np.zeros(detector.n_features_in_, np.float32)  # gap filling carries this
        self.cover = CoverMean(self.window, 1 + detector.n_features_in_)

    def update(self, X: ArrayLike) -> dict[str, NDArray[np.float64]]:
        """Scores of the rows this piece settles (see the class docstring)."""
        scores, errors = self.update_scaled(self.detector._read(X))
        return {"anomaly_score": scores, "channel_errors": errors}

    def finish(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The rows still open (offline scoring), as ``(scores, channel errors)``."""
        settled = self.cover.take(final=True)
        return settled[:, 0], settled[:, 1:]

    def update_scaled(
        self, x: NDArray[np.float32]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``update`` for rows already read and scaled."""
        if len(x) == 0:
            return np.empty(0), np.empty((0, self.detector.n_features_in_))
        x = fill_gaps(x, self.last)
        self.last = x[-1].copy()
        w = self.window
        if self.tail is None:
            before = causal_padding(x[0], w) if self.scoring == "causal" else x[:0]
        else:
            before = self.tail
        joined = np.concatenate([before, x]) if len(before) else x
        self.tail = joined[-(w - 1) :] if w > 1 else joined[:0]
        if len(joined) < w:
            return np.empty(0), np.empty((0, self.detector.n_features_in_))
        windows = sliding(joined, w)
        if self.scoring == "causal":
            local = self._local(windows, last_only=True)
            return local[:, 0], local[:, 1:]
        self.cover.add(self._local(windows, last_only=False))
        settled = self.cover.take()
        return settled[:, 0], settled[:, 1:]

    def _local(self, windows: NDArray[np.float32], last_only: bool) -> NDArray[np.float64]:
        """Each window's score and each channel's relative error at each of its timestamps,
        ``(n_windows, window, 1 + channels)`` (the window's last timestamp only with
        ``last_only``: ``(n_windows, 1 + channels)``)."""
        _, w, c = windows.shape
        out = []
        for rows in network_batches(windows, self.kind):
            terms = self.detector.detector_._terms(rows, per_feature=True)
            errors = terms["relative_error"].reshape(len(rows), w, c)
            score = terms["anomaly_score"]
            if last_only:
                out.append(np.concatenate([score[:, None], errors[:, -1]], axis=-1))
            else:
                score = np.broadcast_to(score[:, None, None], (len(rows), w, 1))
                out.append(np.concatenate([score, errors], axis=-1))
        return np.concatenate(out)


def channel_shares(errors: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each channel's share of each row's error (equal shares where a row has none)."""
    total = errors.sum(1, keepdims=True)
    even = np.full_like(errors, 1 / errors.shape[1])
    return np.asarray(np.divide(errors, total, out=even, where=total > 0), np.float64)


def calibration_blocks(n: int, window: int, fraction: float) -> list[tuple[int, int]]:
    """Up to ``MAX_CALIBRATION_BLOCKS`` blocks of ``fraction`` of ``n`` timestamps in all,
    each ending one ``n / k``-th further (the last at ``n``), at least a window long;
    none where the rest would leave no training window."""
    n_cal = round(n * fraction)
    if n_cal < 1:
        return []
    k = max(1, min(MAX_CALIBRATION_BLOCKS, n_cal // (4 * window)))
    length = n_cal // k
    blocks = [(round((i + 1) * n / k) - length, round((i + 1) * n / k)) for i in range(k)]
    if len(training_starts(n, window, 1, blocks)) < 1:
        return []
    return blocks


def training_starts(
    n: int, window: int, stride: int, blocks: list[tuple[int, int]]
) -> NDArray[np.intp]:
    """Start rows of the training windows: every ``stride``-th, none touching a block."""
    starts = np.arange(0, n - window + 1, stride)
    keep = np.ones(len(starts), bool)
    for start, stop in blocks:  # a window [s, s + window) touches [start, stop)
        keep &= (starts + window <= start) | (starts >= stop)
    return starts[keep]
