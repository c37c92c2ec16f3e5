"""Each parameter is declared once: its default, its rule and its help text."""

from __future__ import annotations

import dataclasses

import pytest

from aekit import AnomalyDetector, Autoencoder
from aekit.models import ModelConfig
from aekit.params import parameters
from aekit.training import TrainSettings


@pytest.mark.parametrize("cls", [Autoencoder, AnomalyDetector])
def test_init_constraints_and_docs_come_from_the_declarations(cls: type) -> None:
    declared = parameters(cls)
    assert list(cls._get_param_names()) == sorted(declared)
    assert set(cls._parameter_constraints) == set(declared)
    assert cls().get_params(deep=False) == {name: p.default for name, p in declared.items()}
    doc = cls.__doc__ or ""
    assert "{parameters}" not in doc and "Parameters\n    ----------" in doc
    for name, p in declared.items():
        assert f"\n    {name} : " in doc, name
        assert p.help.split()[0] in doc
    assert doc.index("Parameters\n") < doc.index("Attributes\n")


def test_no_layer_below_the_estimators_declares_a_default() -> None:
    """The network's shared configuration and the training settings are built from the
    estimator's parameters; a default there could drift from the declared one."""
    for cls in (ModelConfig, TrainSettings):
        with_default = [
            f.name
            for f in dataclasses.fields(cls)
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        ]
        assert with_default == [], cls.__name__


def test_unknown_parameters_are_named_with_where_they_went() -> None:
    with pytest.raises(TypeError, match="Autoencoder got unknown parameters 'colour'"):
        Autoencoder(colour="red")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"model_params=\{'channels'"):
        Autoencoder(channels=(8,))  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"set_params\(estimator__activation"):
        AnomalyDetector(activation="relu")  # type: ignore[call-arg]
