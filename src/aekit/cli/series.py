"""The command line for series: ``aekit fit --time-series`` builds a ``TimeSeriesDetector``,
``aekit score`` writes one row per input row, streaming tables through its ``scorer``."""

from __future__ import annotations

import argparse
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from aekit.cli.options import autoencoder_params, detector_params, series_params


def series_estimator(given: dict[str, Any], verbose: int) -> Any:
    """The ``TimeSeriesDetector`` the options ask for: its own options to it, the window
    detector's to ``detector__NAME``, the members' to ``detector__estimator__NAME``."""
    from aekit import TimeSeriesDetector

    own_names, window_names = set(series_params()), set(detector_params())
    own = {k: v for k, v in given.items() if k in own_names}
    nested = {
        (f"detector__{k}" if k in window_names else f"detector__estimator__{k}"): v
        for k, v in given.items()
        if k not in own_names
    }
    unknown = [k for k in given if k not in own_names | window_names | set(autoencoder_params())]
    assert not unknown, unknown  # every option comes from a declaration
    model = TimeSeriesDetector(**own, verbose=verbose)
    if nested:
        model.set_params(detector=TimeSeriesDetector.default_detector())
        model.set_params(**nested)
    return model


def fit_summary(model: Any, n_rows: int) -> tuple[str, str] | None:
    """What ``aekit fit`` says it trained (None when nothing was)."""
    if not hasattr(model, "offset_"):
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
        return self._frame(settled["anomaly_score"], settled["channel_errors"])

    def finish(self) -> tuple[list[str], Any]:
        return self._frame(*self.scorer.finish())

    def _frame(self, scores: np.ndarray, errors: np.ndarray) -> tuple[list[str], Any]:
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
