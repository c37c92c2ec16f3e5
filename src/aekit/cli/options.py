"""``aekit fit``'s estimator options, derived from the parameter declarations.

Every declared parameter (``aekit.estimators.parameters``) with ``cli=True`` becomes one
option: its name with dashes, its help text, and a parser built from the values it
accepts. Options default to "not given", so only what the user typed reaches the
estimator and every other parameter keeps the default declared beside it. Torch-free.
"""

from __future__ import annotations

import argparse
from typing import Any

from aekit.estimators.parameters import (
    AnomalyDetectorParams,
    AutoencoderParams,
    TimeSeriesAutoencoderParams,
    TimeSeriesDetectorParams,
)
from aekit.params import Flag, Param, Settings, parameters


def autoencoder_params() -> dict[str, Param]:
    return parameters(AutoencoderParams)


def detector_params() -> dict[str, Param]:
    return parameters(AnomalyDetectorParams)


def series_params() -> dict[str, Param]:
    return parameters(TimeSeriesDetectorParams)


def series_autoencoder_params() -> dict[str, Param]:
    return parameters(TimeSeriesAutoencoderParams)


def every_params() -> dict[str, Param]:
    """Every parameter an option may set: the network's, the detector's and both series
    estimators'."""
    return autoencoder_params() | detector_params() | series_params() | series_autoencoder_params()


def add_estimator_options(parser: argparse.ArgumentParser) -> None:
    """Add an option for every parameter the command line exposes, in three groups: the
    network's (for ``--detector`` or ``--time-series``, each member's), the detector's own,
    and the series detector's own."""
    network = parser.add_argument_group(
        "model and training (Autoencoder parameters; with --detector or --time-series, each "
        "member's)"
    )
    detector = parser.add_argument_group(
        "detector (AnomalyDetector parameters; need --detector or --time-series)"
    )
    series = parser.add_argument_group(
        "time series (TimeSeriesAutoencoder parameters, with --detector TimeSeriesDetector "
        "parameters; need --time-series)"
    )
    added: set[str] = set()
    groups = (
        (network, autoencoder_params()),
        (detector, detector_params()),
        (series, series_params() | series_autoencoder_params()),
    )
    for group, declared in groups:
        for p in declared.values():
            if p.cli and p.name not in added:  # random_state is both: one option
                _add_option(group, p)
                added.add(p.name)


def _add_option(group: Any, p: Param) -> None:
    common: dict[str, Any] = {"dest": p.name, "default": argparse.SUPPRESS}
    shown_default = p.default_text()
    help_text = f"{p.help} (default: {shown_default})".replace("%", "%%")
    if any(isinstance(a, Flag) for a in p.allowed):
        group.add_argument(
            *p.flags, action=argparse.BooleanOptionalAction, help=help_text, **common
        )
        return
    settings = any(isinstance(a, Settings) for a in p.allowed)
    group.add_argument(
        *p.flags,
        type=_converter(p),
        action="append" if settings else "store",
        metavar="NAME=VALUE" if settings else p.name.upper(),
        help=help_text + (" Repeat for each setting." if settings else ""),
        **common,
    )


def _converter(p: Param) -> Any:
    def convert(text: str) -> Any:
        try:
            return p.parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = p.name  # argparse names the type in its messages
    return convert


def given_params(args: argparse.Namespace) -> dict[str, Any]:
    """The estimator parameters the user typed, by name (settings merged into one dict)."""
    names = {name for name, p in every_params().items() if p.cli}
    given = {name: value for name, value in vars(args).items() if name in names}
    if "model_params" in given:  # "--model-param none" alone: the kind's defaults
        settings = [setting for setting in given["model_params"] if setting is not None]
        given["model_params"] = {k: v for s in settings for k, v in s.items()} or None
    return given


def split_for_detector(given: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(the detector's own, its members')``: a name the detector declares is its own."""
    own_names = set(detector_params())
    own = {k: v for k, v in given.items() if k in own_names}
    member = {k: v for k, v in given.items() if k not in own_names}
    return own, member


def not_taken(given: dict[str, Any], *taking: dict[str, Param]) -> list[str]:
    """Options given that none of the ``taking`` estimators' declarations take, as the
    user typed them."""
    every = every_params()
    return [every[k].flags[0] for k in given if not any(k in d for d in taking)]
