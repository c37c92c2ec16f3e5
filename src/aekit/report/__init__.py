"""One self-contained HTML report per model: model card, headline metrics, figures."""

from aekit.report.html import write_report

__all__ = ["write_report"]
