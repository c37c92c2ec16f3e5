"""``write_report``: one self-contained HTML file (figures inlined, no network) per model."""

from __future__ import annotations

import base64
import html
import io
import platform
import time
import warnings
from pathlib import Path
from string import Template
from typing import Any

from numpy.typing import ArrayLike

from aekit._version import __version__
from aekit.reporting.sections import (
    SECTIONS,
    build_context,
    model_card,
    reconstruction_cards,
)
from aekit.reporting.series import is_series_model, series_content


def write_report(
    estimator: Any,
    X: ArrayLike,
    path: str | Path,
    *,
    labels: ArrayLike | None = None,
    X_train: ArrayLike | None = None,
    title: str | None = None,
) -> Path:
    """Write an HTML report on a fitted ``Autoencoder``, ``AnomalyDetector``,
    ``TimeSeriesDetector`` or ``TimeSeriesAutoencoder``.

    Parameters
    ----------
    estimator : fitted aekit estimator
    X : array-like
        Data to report on, ideally not seen in training.
    path : str or Path
        The ``.html`` file to write (atomically).
    labels : array-like of shape (n_samples,), optional
        Class labels to colour the latent space; for an ``AnomalyDetector``, 1 marks an
        anomaly and adds ROC-AUC, average precision and their curves; for a
        ``TimeSeriesDetector``, 1 marks an anomalous timestamp (shaded, and VUS-PR).
    X_train : array-like, optional
        The training data: PCA is then fitted on it, so that both reconstruction errors
        are held-out. Without it PCA is fitted on ``X`` itself (which favours PCA).
    title : str, optional

    Returns
    -------
    path : Path
        The report written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import aekit
    >>> from aekit.datasets import load_digits
    >>> X, y = load_digits()
    >>> ae = aekit.Autoencoder(latent_dim=2, max_epochs=2, random_state=0).fit(X)
    >>> page = aekit.report(ae, X, Path(tempfile.mkdtemp()) / "digits.html", labels=y)
    >>> page.suffix, page.stat().st_size > 10_000
    ('.html', True)
    """
    from aekit.data.files import write_bytes_atomically

    with warnings.catch_warnings():  # names were checked once; arrays are used after
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        if is_series_model(estimator):
            page = _render_series(estimator, X, labels, title)
        else:
            context = build_context(estimator, X, labels, X_train)
            kind = context.network.model_.kind
            name = f"aekit report: {type(estimator).__name__} ({kind})"
            page = _render(context, title or name)
    path = Path(path)
    write_bytes_atomically(path, page.encode())
    return path


def _render(context: Any, title: str) -> str:
    started = time.perf_counter()
    reconstruction_cards(context)
    sections = []
    for section in SECTIONS:
        if not section.applies(context):
            continue
        figures, note = section.draw(context)
        parts = [_figure_html(figure, caption) for figure, caption in figures]
        if note:
            parts.append(f'<p class="note">{note}</p>')
        sections.append((section.ident, section.heading, "\n".join(parts)))
    card = model_card(context, time.perf_counter() - started)
    body = [
        _section("model", "Model", _table_html(card)),
        _section("metrics", "Headline metrics", _cards_html(context.cards)),
    ]
    heads = [("model", "Model", ""), ("metrics", "Metrics", "")]
    table = context.network.preprocessor_
    if table is not None:  # each column's role: what the model used, and what it left out
        columns = _rows_html(["column", "role", "inputs", "how"], table.column_roles())
        body.append(_section("columns", "Columns", columns))
        heads.append(("columns", "Columns", ""))
    body += [_section(i, h, content) for i, h, content in sections]
    nav = " ".join(f'<a href="#{i}">{html.escape(h)}</a>' for i, h, _ in [*heads, *sections])
    network = context.network
    lead = (
        f"{type(context.estimator).__name__}, kind <b>{network.model_.kind}</b>, latent size "
        f"{network.latent_dim}, reported on {len(context.X)} samples of shape "
        f"{tuple(context.X.shape[1:])}."
    )
    return _page(title, lead, nav, body)


def _render_series(model: Any, X: Any, labels: Any, title: str | None) -> str:
    started = time.perf_counter()
    card, cards, sections = series_content(model, X, labels)
    card["report built in"] = f"{time.perf_counter() - started:.1f} s"
    body = [
        _section("model", "Model", _table_html(card)),
        _section("metrics", "Headline metrics", _cards_html(cards)),
    ]
    body += [
        _section(ident, heading, "\n".join(_figure_html(f, c) for f, c in figures))
        for ident, heading, figures in sections
    ]
    heads = [("model", "Model"), ("metrics", "Metrics")] + [(i, h) for i, h, _ in sections]
    nav = " ".join(f'<a href="#{i}">{html.escape(h)}</a>' for i, h in heads)
    name = type(model).__name__
    lead = (
        f"{name} over windows of {model.window_} timestamps x {model.n_features_in_} "
        f"channel(s), reported on {card['report data']}."
    )
    return _page(title or f"aekit report: {name}", lead, nav, body)


def _page(title: str, lead: str, nav: str, body: list[str]) -> str:
    footer = (
        f"aekit {__version__} · Python {platform.python_version()} · "
        f"written {time.strftime('%Y-%m-%d %H:%M')}"
    )
    template = Template((Path(__file__).parent / "template.html").read_text())
    return template.substitute(
        title=html.escape(title), lead=lead, nav=nav, sections="\n".join(body), footer=footer
    )


# --- helpers --------------------------------------------------------------------------


def _table_html(rows: dict[str, str]) -> str:
    return (
        "<table>"
        + "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows.items()
        )
        + "</table>"
    )


def _rows_html(header: list[str], rows: list[dict[str, Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(row[h]))}</td>" for h in header) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _figure_html(figure: Any, caption: str) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight", facecolor="white")
    data = base64.b64encode(buffer.getvalue()).decode()
    return (
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _cards_html(cards: list[tuple[str, str, str]]) -> str:
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="label">{html.escape(label)}</div>'
            f'<div class="value">{html.escape(value)}</div>'
            f'<div class="detail">{html.escape(detail)}</div></div>'
            for label, value, detail in cards
        )
        + "</div>"
    )


def _section(ident: str, heading: str, content: str) -> str:
    return f'<section id="{ident}"><h2>{html.escape(heading)}</h2>\n{content}\n</section>'
