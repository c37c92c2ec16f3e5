"""One self-contained HTML report per model: model card, headline metrics, figures."""

from aekit.reporting.html import write_report

report = write_report  # ``aekit.report(estimator, X, "report.html")``

__all__ = ["report", "write_report"]
