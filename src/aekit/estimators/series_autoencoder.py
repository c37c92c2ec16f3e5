"""``TimeSeriesAutoencoder``: an autoencoder of a series' sliding windows, giving back a
reconstruction (or a denoised signal) for every timestamp and a code for every window."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from aekit.data.series import fill_gaps
from aekit.data.windows import CoverMean, sliding
from aekit.estimators._nested import DefaultSubEstimator
from aekit.estimators._series import SeriesInputs, network_batches, network_rows
from aekit.estimators.autoencoder import Autoencoder
from aekit.estimators.parameters import TimeSeriesAutoencoderParams


class TimeSeriesAutoencoder(
    DefaultSubEstimator, SeriesInputs, TimeSeriesAutoencoderParams, BaseEstimator
):
    """Reconstruct, denoise and encode a series through its sliding windows.

    The series (as ``TimeSeriesDetector`` reads it: a 1-D or ``(n_timestamps,
    n_channels)`` array, or a DataFrame with a ``DatetimeIndex`` or a ``time_column``) is
    standardised per channel and cut into windows of ``window`` timestamps; an
    ``Autoencoder`` (``estimator``) learns them, each window less its own mean with
    ``center_windows`` (the default: the mean is added back to its reconstruction, and a
    window's code describes its shape, not its level). A timestamp's reconstruction is the mean of
    its reconstructions in every window that covers it, in the data's units, aligned with
    the input's rows; ``denoise`` is the same for a network trained with ``noise=`` (on
    corrupted windows, with clean targets). ``transform`` gives one code per window, labelled
    with the timestamp the window ends at. Gaps (NaN) are filled as ``TimeSeriesDetector``
    fills them.

    {parameters}

    Attributes
    ----------
    estimator_ : Autoencoder
        The fitted network of windows (rows: windows flattened timestamp-major).
    window_, channels_, scaler_, n_features_in_, feature_names_in_
        As in ``TimeSeriesDetector``.

    Examples
    --------
    >>> import numpy as np
    >>> from aekit import TimeSeriesAutoencoder
    >>> t = np.arange(2000)
    >>> series = np.column_stack([np.sin(2 * np.pi * t / 40), np.cos(2 * np.pi * t / 40)])
    >>> ae = TimeSeriesAutoencoder(window=40, random_state=0).fit(series)
    >>> ae.reconstruct(series).shape  # aligned with the input's rows
    (2000, 2)
    """

    @staticmethod
    def default_estimator(**params: Any) -> Autoencoder:
        """The network of ``estimator=None``: ``Autoencoder``'s defaults, without scaling of
        its own (the series is scaled per channel), with ``params`` changed.

        Parameters
        ----------
        **params
            ``Autoencoder`` parameters to change.

        Returns
        -------
        estimator : Autoencoder
        """
        return Autoencoder(**({"scale": "none"} | params))

    SUB = "estimator"
    SUB_KIND = "kind"
    _sub_default = default_estimator

    def fit(self, X: ArrayLike, y: object = None, **training: Any) -> TimeSeriesAutoencoder:
        """Learn the windows of the series ``X``.

        Parameters
        ----------
        X : array of shape (n_timestamps,) or (n_timestamps, n_channels), or a DataFrame
        y : ignored
        **training
            Passed to ``Autoencoder.fit``: ``callbacks``, ``checkpoint``, ``resume``, ``stop``.

        Returns
        -------
        self : TimeSeriesAutoencoder
        """
        self._validate_params()
        series = self._series(X)
        window = self._window_for(series)
        x = self._fit_inputs(series, window, series.values)
        starts = np.arange(0, len(x) - window + 1, int(self.stride))
        template = self.estimator if self.estimator is not None else self.default_estimator()
        self.estimator_ = clone(template).set_params(
            random_state=self.random_state, verbose=self.verbose
        )
        windows = sliding(x, window)[starts]  # a copy: centred in place
        self.estimator_.fit(network_rows(self._centred(windows), self.estimator_.kind), **training)
        return self

    def _centred(self, windows: NDArray[np.float32]) -> NDArray[np.float32]:
        """Owned ``windows`` ``(n, window, channels)`` with their means taken out in place
        (with ``center_windows``)."""
        if self.center_windows:
            windows -= windows.mean(axis=1, keepdims=True)
        return windows

    def network_inputs(self, X: Any) -> NDArray[np.float32]:
        """Every window of ``X`` (stride 1) as the network sees it: scaled per channel, gaps
        filled, less the window's mean with ``center_windows``.

        Parameters
        ----------
        X : array of shape (n_timestamps,) or (n_timestamps, n_channels), or a DataFrame
            A series like the one ``fit`` took.

        Returns
        -------
        windows : ndarray
            ``(n_timestamps - window + 1, window * n_channels)``, flattened timestamp-major,
            or ``(n_windows, window, n_channels)`` for a sequence kind (a copy ``window``
            times the series' size).
        """
        windows = np.array(self._window_view(X), np.float32)
        return network_rows(self._centred(windows), self._network_kind())

    def _batches(
        self, windows: NDArray[np.float32]
    ) -> Iterator[tuple[NDArray[np.float32], NDArray[np.float32]]]:
        """``(means, rows)`` per batch of a window view: the windows' means ``(n, 1,
        channels)`` (zeros without ``center_windows``) and the network rows of the windows
        less them."""
        kind = self.estimator_.kind
        for rows in network_batches(windows, kind):
            batch = rows.reshape(len(rows), self.window_, -1)
            if not self.center_windows:
                yield np.zeros((len(rows), 1, batch.shape[-1]), np.float32), rows
                continue
            means = batch.mean(axis=1, keepdims=True)
            yield means, network_rows(batch - means, kind)

    def _network_kind(self) -> str:
        return str(self.estimator_.kind)

    def reconstruct(self, X: ArrayLike) -> Any:
        """Each timestamp's reconstruction: the mean over the windows covering it.

        Parameters
        ----------
        X : array of shape (n_timestamps,) or (n_timestamps, n_channels), or a DataFrame
            A series like the one ``fit`` took (the same channels; a DataFrame's time column
            or ``DatetimeIndex`` as in ``fit``).

        Returns
        -------
        X_reconstructed : DataFrame (X's columns and index) for a DataFrame, else an array
            of X's shape, in the data's units.
        """
        check_is_fitted(self, "estimator_")
        windows = self._window_view(X)
        cover = CoverMean(self.window_, self.n_features_in_)
        for means, rows in self._batches(windows):
            out = np.asarray(self.estimator_.reconstruct(rows), np.float64)
            cover.add(out.reshape(len(rows), self.window_, -1) + means)
        scaled = cover.take(final=True).astype(np.float32)
        return self._as_input(X, self.scaler_.inverse_transform(scaled))

    def denoise(self, X: ArrayLike) -> Any:
        """The series cleaned up: its reconstruction by a network trained as a denoiser
        (``estimator`` with ``noise=``, e.g. ``"gaussian"`` with a ``noise_level`` near the
        noise's standard deviation in standardised units). Without noise in training, the
        reconstruction is returned with a ``UserWarning``.

        Parameters
        ----------
        X : array of shape (n_timestamps,) or (n_timestamps, n_channels), or a DataFrame
            A series like the one ``fit`` took (the same channels; a DataFrame's time column
            or ``DatetimeIndex`` as in ``fit``).

        Returns
        -------
        X_denoised : as ``reconstruct``
        """
        check_is_fitted(self, "estimator_")
        if self.estimator_.noise is None:
            warnings.warn(
                "denoise() on a model fitted without noise: it was not trained to remove "
                "noise; fit with estimator=TimeSeriesAutoencoder.default_estimator("
                "noise='gaussian', noise_level=...) for a denoiser",
                UserWarning,
                stacklevel=2,
            )
        return self.reconstruct(X)

    def transform(self, X: ArrayLike) -> Any:
        """One code per window (stride 1), labelled with the timestamp it ends at.

        Parameters
        ----------
        X : array of shape (n_timestamps,) or (n_timestamps, n_channels), or a DataFrame
            A series like the one ``fit`` took (the same channels; a DataFrame's time column
            or ``DatetimeIndex`` as in ``fit``).

        Returns
        -------
        codes : DataFrame of shape (n_timestamps - window + 1, latent_dim)
            Columns ``z0, z1, ...``; the index holds each window's last timestamp (X's index
            labels, its time column, or row numbers).
        """
        import pandas as pd

        check_is_fitted(self, "estimator_")
        windows = self._window_view(X)
        codes = np.concatenate(
            [self.estimator_.transform(rows) for _, rows in self._batches(windows)]
        )
        ends = np.arange(self.window_ - 1, self.window_ - 1 + len(codes))
        labels = self._series(X).labels(ends)
        columns = [f"z{k}" for k in range(codes.shape[1])]
        return pd.DataFrame(codes, columns=columns, index=pd.Index(labels, name="window_end"))

    def reconstruction_error(self, X: ArrayLike) -> NDArray[np.float64]:
        """Each timestamp's squared reconstruction error in standardised units, averaged
        over the channels.

        Parameters
        ----------
        X : array of shape (n_timestamps,) or (n_timestamps, n_channels), or a DataFrame
            A series like the one ``fit`` took (the same channels; a DataFrame's time column
            or ``DatetimeIndex`` as in ``fit``).

        Returns
        -------
        error : ndarray of shape (n_timestamps,)
        """
        check_is_fitted(self, "estimator_")
        x = fill_gaps(self._read(X))
        rebuilt = np.asarray(self.reconstruct(X), np.float64).reshape(len(x), -1)
        scaled = self.scaler_.transform(rebuilt.astype(np.float32))
        return np.asarray(((scaled.astype(np.float64) - x) ** 2).mean(1))

    def _as_input(self, X: Any, values: NDArray[np.float32]) -> Any:
        """``values`` ``(n, channels)`` shaped and labelled as ``X`` was."""
        if hasattr(X, "columns") and hasattr(X, "index"):
            import pandas as pd

            return pd.DataFrame(values, columns=self.channels_, index=X.index)
        if hasattr(X, "index") and hasattr(X, "name"):  # a Series
            import pandas as pd

            return pd.Series(values[:, 0], index=X.index, name=X.name)
        return values[:, 0] if np.ndim(X) == 1 else values

    # --- model files ---------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the fitted model to one ``.safetensors`` file (atomically).

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
        """Its part of a model file: parameters, series state, and the network's own part
        (tensors under ``network.``)."""
        from aekit.io.model_file import as_tensors, json_params

        check_is_fitted(self, "estimator_")
        params = json_params(self.get_params(deep=False) | {"estimator": None})
        inner, inner_tensors = self.estimator_._to_file()
        fitted, arrays = self._inputs_to_file()
        fitted["custom_estimator"] = self.estimator is not None
        tensors = as_tensors(arrays, "fitted.")
        tensors |= {f"network.{k}": v for k, v in inner_tensors.items()}
        return {"params": params, "fitted": fitted, "network": inner}, tensors

    @classmethod
    def _from_file(
        cls, body: dict[str, Any], tensors: dict[str, torch.Tensor], *, checkpoint: bool = False
    ) -> TimeSeriesAutoencoder:
        """A model from its part of a model file (``_to_file``)."""
        from aekit.io.model_file import params_from_json, with_prefix

        params = params_from_json(cls, body["params"])
        inner = Autoencoder._from_file(body["network"], with_prefix(tensors, "network."))
        fitted = body["fitted"]
        if fitted["custom_estimator"]:
            params["estimator"] = clone(inner)
        model = cls(**params)
        model.estimator_ = inner
        arrays = {k: v.numpy() for k, v in with_prefix(tensors, "fitted.").items()}
        model._inputs_from_file(fitted, arrays, inner.n_features_in_)
        return model
