"""The threshold rules the detectors share: a contamination quantile, or a false-alarm rate
calibrated (split-conformal) on held-out scores, and the conformal p-values behind it.

Scores here are anomaly scores: higher is more anomalous.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

AUTO_CONTAMINATION = 0.05  # contamination="auto": the classic 95th-percentile rule


class Thresholded:
    """What a fitted detector says of its threshold (it declares the two rules and sets
    ``offset_``)."""

    contamination: Any
    false_positive_rate: Any
    offset_: float

    @property
    def threshold_rule(self) -> str:
        """The rule that sets the threshold, as text: ``"contamination=auto"``, say."""
        return rule_text(self.contamination, self.false_positive_rate)

    @property
    def threshold_(self) -> float:
        """Anomaly scores above this are anomalies (``-offset_``)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "offset_")
        return -float(self.offset_)


def rule_text(contamination: Any, false_positive_rate: Any) -> str:
    """The rule that sets the threshold, as text: ``"contamination=auto"``, say."""
    if false_positive_rate is not None:
        return f"false_positive_rate={false_positive_rate}"
    return f"contamination={contamination}"


def check_one_rule(contamination: Any, false_positive_rate: Any) -> None:
    """At most one of the two rules may be given."""
    if false_positive_rate is not None and contamination != "auto":
        raise ValueError(
            f"contamination={contamination!r} and false_positive_rate="
            f"{false_positive_rate!r} were both given; set only one threshold rule"
        )


def check_calibration_size(n_cal: int, alpha: float, what: str) -> None:
    """``false_positive_rate=alpha`` needs at least ``1 / alpha - 1`` calibration scores;
    ``what`` says where the ``n_cal`` came from, for the error."""
    needed = int(np.ceil(1.0 / alpha - 1.0 - 1e-9))
    if n_cal < max(needed, 1):
        raise ValueError(
            f"false_positive_rate={alpha} needs at least {needed} calibration samples, but "
            f"{what} gives {n_cal}; raise calibration_fraction or false_positive_rate, or "
            f"give more data"
        )


def threshold(
    scores: NDArray[np.float64],
    calibration: NDArray[np.float64],
    contamination: float | str,
    false_positive_rate: float | None,
) -> float:
    """The anomaly-score threshold (above it: an anomaly).

    With ``false_positive_rate=alpha``, the ``k``-th largest of the sorted ``calibration``
    scores, ``k = floor(alpha * (n + 1))``: flagging above it is flagging ``p <= alpha``.
    Else the quantile of ``scores`` (every training score) that flags ``contamination``
    of them.
    """
    if false_positive_rate is not None:
        n_cal = len(calibration)
        k = int(np.floor(false_positive_rate * (n_cal + 1) + 1e-9))
        return float(calibration[n_cal - k])
    share = AUTO_CONTAMINATION if contamination == "auto" else float(contamination)
    return float(np.quantile(scores, 1.0 - share))


def conformal_pvalues(
    calibration: NDArray[np.float64], scores: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``(1 + #{calibration >= score}) / (n + 1)`` for each score, against the sorted
    ``calibration`` scores: for a normal point ``P(p <= alpha) <= alpha``."""
    n_at_least = len(calibration) - np.searchsorted(calibration, scores, side="left")
    return np.asarray((1.0 + n_at_least) / (len(calibration) + 1.0), dtype=np.float64)
