"""The command line for series: ``aekit fit --time-series`` builds a
``TimeSeriesAutoencoder`` (with ``--detector``, a ``TimeSeriesDetector``); ``aekit score``,
``reconstruct``, ``denoise`` and ``encode`` write one row per input row (per window for
codes), a detector's scores streamed through its ``scorer``."""

from __future__ import annotations

import argparse
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import is_outlier_detector

from aekit.cli.options import (
    autoencoder_params,
    detector_params,
    not_taken,
    series_autoencoder_params,
    series_params,
)


class SeriesCommandError(ValueError):
    """A command that does not apply to this series model."""


def series_estimator(given: dict[str, Any], verbose: int, detector: bool) -> Any:
    """The series model the options ask for. A ``TimeSeriesDetector`` (``detector``): its
    own options to it, the window detector's to ``detector__NAME``, the members' to
    ``detector__estimator__NAME``. A ``TimeSeriesAutoencoder``: its own options to it, the
    network's to ``estimator__NAME``."""
    from aekit import TimeSeriesAutoencoder, TimeSeriesDetector

    if not detector:
        own_names = set(series_autoencoder_params())
        refused = not_taken(given, series_autoencoder_params(), autoencoder_params())
        if refused:
            raise SeriesCommandError(
                f"{', '.join(refused)} {'needs' if len(refused) == 1 else 'need'} --detector "
                f"(a TimeSeriesDetector)"
            )
        model = TimeSeriesAutoencoder(
            **{k: v for k, v in given.items() if k in own_names}, verbose=verbose
        )
        network = {f"estimator__{k}": v for k, v in given.items() if k not in own_names}
        if network:
            model.set_params(estimator=TimeSeriesAutoencoder.default_estimator(), **network)
        return model
    refused = not_taken(given, series_params(), detector_params(), autoencoder_params())
    if refused:
        raise SeriesCommandError(
            f"{', '.join(refused)} {'is' if len(refused) == 1 else 'are'} for a "
            f"TimeSeriesAutoencoder (--time-series without --detector)"
        )
    own_names, window_names = set(series_params()), set(detector_params())
    own = {k: v for k, v in given.items() if k in own_names}
    nested = {
        (f"detector__{k}" if k in window_names else f"detector__estimator__{k}"): v
        for k, v in given.items()
        if k not in own_names
    }
    model = TimeSeriesDetector(**own, verbose=verbose)
    if nested:
        kind = nested.pop("detector__estimator__kind", "dense")
        model.set_params(detector=TimeSeriesDetector.default_detector(kind), **nested)
    return model


def fit_summary(model: Any, n_rows: int) -> tuple[str, str] | None:
    """What ``aekit fit`` says it trained (None when nothing was)."""
    if not is_outlier_detector(model):
        history = model.estimator_.history_
        if history.n_epochs == 0:
            return None
        how = "interrupted after" if history.interrupted else "trained for"
        return (
            f"{how} {history.n_epochs} epochs: TimeSeriesAutoencoder over windows of "
            f"{model.window_} timestamps x {model.n_features_in_} channels (kind="
            f"{model.estimator_.kind}, latent_dim={model.estimator_.latent_dim}) on {n_rows} "
            f"timestamps in {history.fit_seconds:.1f}s",
            "the best model so far",
        )
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model, "offset_")
    except NotFittedError:  # stopped before a member finished an epoch
        return None
    inner = model.detector_
    how = "interrupted after" if inner.interrupted_ else "trained"
    return (
        f"{how} {len(inner.estimators_)} of {inner.n_estimators} networks: TimeSeriesDetector "
        f"over windows of {model.window_} timestamps x {model.n_features_in_} channels "
        f"({model.scoring} scoring) on {n_rows} timestamps; anomaly_score above "
        f"{model.threshold_:.4g} is an anomaly ({model.threshold_rule})",
        f"the detector so far ({len(inner.estimators_)} networks)",
    )


def run_command(args: argparse.Namespace, model: Any, command: str) -> None:
    """``aekit COMMAND`` on a series model file."""
    detector = is_outlier_detector(model)
    if command == "score" and detector:
        return score_series(args, model)
    if detector:
        raise SeriesCommandError(
            f"'aekit {command}' needs a TimeSeriesAutoencoder (aekit fit --time-series without "
            f"--detector), but this file holds a TimeSeriesDetector"
        )
    import pandas as pd

    from aekit.cli.main import _read_options, _write
    from aekit.data.files import check_writable, read_data

    check_writable(args.output)
    X = read_data(args.data, key=args.key, options=_read_options(args))
    labels = _labels(model, X)
    if command == "encode":
        out = model.transform(X).reset_index()
        out["window_end"] = labels[model.window_ - 1 :]
    elif command == "score":
        out = pd.DataFrame({"reconstruction_error": model.reconstruction_error(X)})
    else:  # reconstruct, denoise
        values = model.denoise(X) if command == "denoise" else model.reconstruct(X)
        out = pd.DataFrame(np.asarray(values).reshape(len(labels), -1), columns=model.channels_)
    if command != "encode":
        out.insert(0, model.time_column or "row", labels)
    _write(args.output, out, columns=None)


def _labels(model: Any, X: Any) -> list[Any]:
    """Each row's label as the output gives it: the time column's text, else the row."""
    if model.time_column is not None and hasattr(X, "columns"):
        return list(X[model.time_column])
    return list(range(len(X)))


def score_series(args: argparse.Namespace, model: Any) -> None:
    """``aekit score`` for a ``TimeSeriesDetector``: one row per input row (its time label,
    ``anomaly_score``, ``p_value``, ``is_anomaly``, and with ``--explain`` each channel's
    share), a table file streamed piece by piece with the scores of the whole."""
    from aekit.data.files import CSV_SUFFIXES, JSON_LINES_SUFFIXES, check_writable, read_data
    from aekit.data.loaders import is_table_path, map_table

    check_writable(args.output)
    writer = SeriesRows(model, args.explain)
    streamable = CSV_SUFFIXES + JSON_LINES_SUFFIXES
    if is_table_path(args.data) or Path(args.data).suffix.lower() in streamable:
        from aekit.cli.main import _read_options

        label = model.time_column
        n = map_table(
            args.data,
            args.output,
            writer.update,
            text_columns=[label] if label is not None else (),
            options=_read_options(args),
            quiet=args.quiet,
            label="scoring",
            finish=writer.finish,
        )
        print(f"wrote {n} rows to {args.output}")
    else:
        from aekit.cli.main import _read_options, _write

        X = read_data(args.data, key=args.key, options=_read_options(args))
        parts = [writer.update(X)[1], writer.finish()[1]]
        import pandas as pd

        _write(args.output, pd.concat(parts, ignore_index=True), columns=None)
    print(f"{writer.flagged} of {writer.rows} timestamps flagged as anomalies")


class SeriesRows:
    """The rows ``aekit score`` writes, piece by piece: the scorer settles scores in order;
    each settled row takes the oldest time label waiting."""

    def __init__(self, model: Any, explain: bool) -> None:
        self.model = model
        self.scorer = model.scorer()
        self.explain = explain
        self.labels: deque[Any] = deque()
        self.rows = self.flagged = 0

    def update(self, piece: Any) -> tuple[list[str], Any]:
        if self.model.time_column is not None and hasattr(piece, "columns"):
            self.labels.extend(piece[self.model.time_column].tolist())
        else:
            self.labels.extend(
                range(self.rows + len(self.labels), self.rows + len(self.labels) + len(piece))
            )
        settled = self.scorer.update(piece)
        return self.frame(settled["anomaly_score"], settled["channel_errors"])

    def finish(self) -> tuple[list[str], Any]:
        return self.frame(*self.scorer.finish())

    def frame(self, scores: np.ndarray, errors: np.ndarray) -> tuple[list[str], Any]:
        """The rows for these settled scores and channel errors, each with its label."""
        import pandas as pd

        model = self.model
        name = model.time_column if model.time_column is not None else "row"
        columns: dict[str, Any] = {name: [self.labels.popleft() for _ in range(len(scores))]}
        columns |= model.parts_of(scores)
        if self.explain:
            from aekit.estimators.series import channel_shares

            shares = channel_shares(errors)
            columns |= {f"share:{c}": shares[:, k] for k, c in enumerate(model.channels_)}
        frame = pd.DataFrame(columns)
        self.rows += len(frame)
        self.flagged += int(frame["is_anomaly"].sum())
        return list(frame.columns), frame
