"""Nested parameters of an estimator built from another one that may be left as None."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class DefaultSubEstimator:
    """``get_params``/``set_params`` for an estimator whose sub-estimator parameter
    (``SUB``: ``"estimator"`` or ``"detector"``) may be None, meaning its default: deep
    parameters list the default's as ``SUB__NAME``, and setting one of them starts from
    that default (built by ``_default_sub``), so that ``set_params(SUB__max_epochs=5)``
    works before any sub-estimator is given. A mixin, before ``BaseEstimator``."""

    SUB: ClassVar[str]  # the parameter that holds the sub-estimator
    SUB_KIND: ClassVar[str]  # the sub-estimator's kind, as named within it

    @staticmethod
    def _sub_default(**params: Any) -> Any:
        """The class's own default of the sub-estimator (``default_estimator``, say)."""
        raise NotImplementedError

    def _default_sub(self, params: Mapping[str, Any]) -> Any:
        """The default sub-estimator, of the kind the nested parameters about to be set
        name (``SUB__SUB_KIND``), if they name one."""
        kind = params.get(f"{self.SUB}__{self.SUB_KIND}")
        return self._sub_default(**({} if kind is None else {"kind": kind}))

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters; with ``deep``, the sub-estimator's as ``SUB__NAME``, also for None."""
        params: dict[str, Any] = super().get_params(deep=deep)  # type: ignore[misc]
        if deep and getattr(self, self.SUB) is None:
            nested = self._default_sub({}).get_params(deep=True)
            params |= {f"{self.SUB}__{name}": value for name, value in nested.items()}
        return params

    def set_params(self, **params: Any) -> Any:
        """Set parameters; ``SUB__NAME`` with ``SUB=None`` starts from the default."""
        prefix = f"{self.SUB}__"
        nested = any(name.startswith(prefix) for name in params)
        if nested and getattr(self, self.SUB) is None and self.SUB not in params:
            setattr(self, self.SUB, self._default_sub(params))
        super().set_params(**params)  # type: ignore[misc]
        return self
