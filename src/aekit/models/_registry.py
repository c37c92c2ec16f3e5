"""The registry of model kinds: ``@register("dense")`` on a class makes ``kind="dense"`` work."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from aekit.models.base import BaseAE

_KINDS: dict[str, type[BaseAE]] = {}
ModelT = TypeVar("ModelT", bound="type[BaseAE]")


def register(kind: str) -> Callable[[ModelT], ModelT]:
    """Class decorator registering a model class under ``kind``."""

    def decorate(cls: ModelT) -> ModelT:
        if kind in _KINDS:
            raise ValueError(f"model kind {kind!r} is already registered by {_KINDS[kind]}")
        cls.kind = kind
        _KINDS[kind] = cls
        return cls

    return decorate


def model_class(kind: str) -> type[BaseAE]:
    """The model class registered as ``kind``."""
    try:
        return _KINDS[kind]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown model kind {kind!r}; available: {', '.join(list_models())}"
        ) from None


def list_models() -> list[str]:
    """Names of every registered model kind, sorted.

    Returns
    -------
    kinds : list of str

    Examples
    --------
    >>> from aekit import list_models
    >>> "dense" in list_models() and "conv" in list_models()
    True
    """
    return sorted(_KINDS)
