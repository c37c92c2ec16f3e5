"""Estimator parameters declared once: each one's default, allowed values and help text.

An estimator's parameters are the fields of one class decorated with ``@declare_params``::

    @declare_params
    class AutoencoderParams(DeclaredParams):
        latent_dim: int = param(2, Number(int, 1), help="Size of the code.")

The decorator writes ``__init__`` (it stores each argument as given, as scikit-learn
requires) and ``_parameter_constraints`` (scikit-learn's validation, built on first use);
an estimator class that inherits the declarations gets its docstring's "Parameters"
section written from them (where it says ``{parameters}``); the command line builds its
options from the same declarations (``aekit.cli.options``), and model files read saved
values back through them. So a default, a rule or a help text is written here only.

This module imports neither torch nor scikit-learn: ``aekit --help`` stays instant.
"""

from __future__ import annotations

import dataclasses
import sys
import textwrap
from typing import Any, TypeVar

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # pragma: no cover
    from typing_extensions import dataclass_transform

PLACEHOLDER = "{parameters}"
T = TypeVar("T")


# --- what a parameter accepts ------------------------------------------------------------


class Allowed:
    """One kind of value a parameter accepts: validated, documented and parsed from text."""

    def constraint(self) -> Any:
        """The scikit-learn constraint (``sklearn.utils._param_validation``)."""
        raise NotImplementedError

    def describe(self) -> str:
        """How the docs and ``--help`` name these values."""
        raise NotImplementedError

    def parse(self, text: str) -> Any:
        """The value a command-line word stands for; ``ValueError`` if it is not one."""
        raise ValueError(text)

    def from_json(self, value: Any) -> Any:
        """A value read back from a model file's JSON, in the type ``__init__`` takes."""
        return value


@dataclasses.dataclass(frozen=True)
class NoneValue(Allowed):
    """``None``; written ``none`` on the command line."""

    meaning: str = ""

    def constraint(self) -> Any:
        return None

    def describe(self) -> str:
        return "None"

    def parse(self, text: str) -> Any:
        if text.lower() != "none":
            raise ValueError(text)
        return None


@dataclasses.dataclass(frozen=True)
class Choice(Allowed):
    """One of some strings."""

    values: tuple[str, ...]

    def __init__(self, *values: str) -> None:
        object.__setattr__(self, "values", tuple(values))

    def constraint(self) -> Any:
        from sklearn.utils._param_validation import StrOptions

        return StrOptions(set(self.values))

    def describe(self) -> str:
        return "{" + ", ".join(f'"{v}"' for v in self.values) + "}"

    def parse(self, text: str) -> Any:
        if text not in self.values:
            raise ValueError(text)
        return text


@dataclasses.dataclass(frozen=True)
class Registered(Allowed):
    """A name among those its owner module lists, such as the activations or the model kinds.

    ``source`` is ``"module:attribute"``: a collection of names, or a function returning
    them (a registry that grows after import). It is imported when validating or
    documenting, never when the command line only builds its options.
    """

    source: str
    what: str

    def names(self) -> list[str]:
        import importlib

        module, _, attribute = self.source.partition(":")
        found = getattr(importlib.import_module(module), attribute)
        return sorted(found() if callable(found) else found)

    def constraint(self) -> Any:
        from sklearn.utils._param_validation import StrOptions

        names = self.names

        class _Current(StrOptions):  # type: ignore[misc]
            def __init__(self) -> None:
                super().__init__(set())

            def is_satisfied_by(self, val: object) -> bool:
                return isinstance(val, str) and val in names()

            def __str__(self) -> str:
                return f"a str among {names()}"

        return _Current()

    def describe(self) -> str:
        return "{" + ", ".join(f'"{v}"' for v in self.names()) + "}"

    def parse(self, text: str) -> Any:
        return text


@dataclasses.dataclass(frozen=True)
class Number(Allowed):
    """An int or a float within bounds; ``closed`` says which bounds are included."""

    type: type
    low: float | None = None
    high: float | None = None
    closed: str = "left"

    def constraint(self) -> Any:
        from numbers import Integral, Real

        from sklearn.utils._param_validation import Interval

        kind = Integral if self.type is int else Real
        return Interval(kind, self.low, self.high, closed=self.closed)

    def describe(self) -> str:
        name = self.type.__name__
        left = self.closed in ("left", "both")
        right = self.closed in ("right", "both")
        if self.low is not None and self.high is not None:
            return f"{name} in {'[' if left else '('}{self.low}, {self.high}{']' if right else ')'}"
        if self.low is not None:
            return f"{name} {'>=' if left else '>'} {self.low}"
        if self.high is not None:
            return f"{name} {'<=' if right else '<'} {self.high}"
        return name

    def parse(self, text: str) -> Any:
        return int(text) if self.type is int else float(text)


@dataclasses.dataclass(frozen=True)
class Flag(Allowed):
    """True or False; ``--name`` / ``--no-name`` on the command line."""

    def constraint(self) -> Any:
        return "boolean"

    def describe(self) -> str:
        return "bool"


@dataclasses.dataclass(frozen=True)
class Text(Allowed):
    """A name, such as a column's; as it is on the command line."""

    def constraint(self) -> Any:
        return str

    def describe(self) -> str:
        return "str"

    def parse(self, text: str) -> Any:
        return text


@dataclasses.dataclass(frozen=True)
class Names(Allowed):
    """A list of column names; ``a,b,c`` on the command line."""

    def constraint(self) -> Any:
        return list

    def describe(self) -> str:
        return "list of str"

    def parse(self, text: str) -> Any:
        names = [n.strip() for n in text.split(",") if n.strip()]
        if not names:
            raise ValueError(text)
        return names

    def from_json(self, value: Any) -> Any:
        return list(value)


@dataclasses.dataclass(frozen=True)
class Settings(Allowed):
    """A dictionary of named settings; ``NAME=VALUE`` on the command line, once per setting.

    VALUE is read as JSON when it parses (``8``, ``true``, ``[64, 32]``), as a list of
    numbers when it is comma-separated (``64,32``), and as text otherwise; lists become
    tuples.
    """

    def constraint(self) -> Any:
        return dict

    def describe(self) -> str:
        return "dict"

    def parse(self, text: str) -> Any:
        name, sep, raw = text.partition("=")
        if not sep or not name.strip():
            raise ValueError(text)
        return {name.strip(): setting_value(raw.strip())}

    def from_json(self, value: Any) -> Any:
        return {k: tuple(v) if isinstance(v, list) else v for k, v in dict(value).items()}


@dataclasses.dataclass(frozen=True)
class Seed(Allowed):
    """An int seed, a ``numpy.random.RandomState``, or None."""

    def constraint(self) -> Any:
        return "random_state"

    def describe(self) -> str:
        return "int, RandomState instance or None"

    def parse(self, text: str) -> Any:
        return int(text)


@dataclasses.dataclass(frozen=True)
class Verbosity(Allowed):
    """An int (or bool) verbosity."""

    def constraint(self) -> Any:
        return "verbose"

    def describe(self) -> str:
        return "int"

    def parse(self, text: str) -> Any:
        return int(text)


@dataclasses.dataclass(frozen=True)
class DeviceName(Allowed):
    """A torch device or its name."""

    def constraint(self) -> Any:
        return str

    def describe(self) -> str:
        return "str or torch.device"

    def parse(self, text: str) -> Any:
        return text


@dataclasses.dataclass(frozen=True)
class Instance(Allowed):
    """An instance of a class, named by its import path (imported when validating)."""

    path: str

    def constraint(self) -> Any:
        import importlib

        module, _, name = self.path.rpartition(".")
        return getattr(importlib.import_module(module), name)

    def describe(self) -> str:
        return self.path.rpartition(".")[2]


def setting_value(text: str) -> Any:
    """A command-line setting's value: JSON, else comma-separated numbers, else the text."""
    import json

    try:
        value = json.loads(text)
    except ValueError:
        parts = text.split(",")
        try:
            value = [float(p) if any(c in p for c in ".eE") else int(p) for p in parts]
        except ValueError:
            return text
        if len(value) == 1:
            return value[0]
    return tuple(value) if isinstance(value, list) else value


# --- declaring ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Param:
    """A declared parameter: its name, default, what it accepts and its help text.

    ``cli`` is False for parameters the command line sets itself or cannot express;
    ``flag`` names the option when ``--name-with-dashes`` does not suit; ``aliases`` are
    extra option names (``--seed`` for ``random_state``).
    """

    name: str
    default: Any
    allowed: tuple[Allowed, ...]
    help: str
    cli: bool = True
    flag: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def flags(self) -> list[str]:
        """The command-line option names: ``--latent-dim`` and any aliases."""
        return [self.flag or "--" + self.name.replace("_", "-"), *self.aliases]

    def describe(self) -> str:
        """The accepted values as the docs name them, string options merged in one set."""
        options = [
            v
            for a in self.allowed
            if isinstance(a, Choice | Registered)
            for v in (a.values if isinstance(a, Choice) else a.names())
        ]
        rest = [a.describe() for a in self.allowed if not isinstance(a, Choice | Registered)]
        shown = ["{" + ", ".join(f'"{v}"' for v in options) + "}"] if options else []
        return " or ".join(shown + rest)

    def default_text(self) -> str:
        return f'"{self.default}"' if isinstance(self.default, str) else repr(self.default)

    def constraints(self) -> list[Any]:
        return [a.constraint() for a in self.allowed]

    def parse(self, text: str) -> Any:
        """The value a command-line word stands for, by the first kind that takes it."""
        for allowed in self.allowed:
            try:
                return allowed.parse(text)
            except ValueError:
                continue
        raise ValueError(f"{text!r} is not {self.describe()}")

    def from_json(self, value: Any) -> Any:
        """A saved value in the type ``__init__`` takes (JSON has lists, not tuples)."""
        if value is None:
            return None
        for allowed in self.allowed:
            if not isinstance(allowed, NoneValue):
                return allowed.from_json(value)
        return value


def param(
    default: Any,
    *allowed: Allowed,
    help: str,
    cli: bool = True,
    flag: str | None = None,
    aliases: tuple[str, ...] = (),
    kw_only: bool = True,
) -> Any:
    """Declare a parameter: its default, the kinds of value it accepts, and its help text."""
    if not allowed:
        raise TypeError("param() needs at least one kind of allowed value")
    declared = Param("", default, tuple(allowed), " ".join(help.split()), cli, flag, tuple(aliases))
    return dataclasses.field(default=default, kw_only=kw_only, metadata={"aekit": declared})


class _Constraints:
    """``_parameter_constraints`` built from the declarations on first use (it imports
    scikit-learn, which the command line's help must not wait for)."""

    def __get__(self, instance: object, owner: type) -> dict[str, list[Any]]:
        cached: dict[str, list[Any]] | None = owner.__dict__.get("_constraints_cache")
        if cached is None:
            cached = {p.name: p.constraints() for p in parameters(owner).values()}
            owner._constraints_cache = cached  # type: ignore[attr-defined]
        return cached


class DeclaredParams:
    """Base of every class of declared parameters.

    A subclass that inherits the declarations (an estimator) gets an ``__init__`` that names
    it in errors, refusing an unknown parameter with the list of known ones and the
    subclass's ``_parameter_hint(name)``; and, where its docstring holds ``{parameters}``,
    the numpydoc "Parameters" section written there from the declarations.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not dataclasses.is_dataclass(cls) or _declares(cls):
            return  # a declaring class, before (or after) @declare_params
        doc = cls.__dict__.get("__doc__")
        if doc and PLACEHOLDER in doc:
            cls.__doc__ = _fill_parameters(doc, cls)
        if "__init__" not in cls.__dict__:
            cls.__init__ = _checked_init(cls)  # type: ignore[method-assign]

    @classmethod
    def _parameter_hint(cls, name: str) -> str | None:
        """Where an unknown parameter ``name`` went, for the error; None when unknown."""
        return None


def _declares(cls: type) -> bool:
    """Whether ``cls`` itself declares parameters (it may extend another declaring class)."""
    if "__dataclass_fields__" in cls.__dict__:
        return True
    return any(
        isinstance(v, dataclasses.Field) and "aekit" in v.metadata for v in cls.__dict__.values()
    )


def _checked_init(cls: Any) -> Any:
    import functools

    init = cls.__init__
    known = set(parameters(cls))

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        unknown = [name for name in kwargs if name not in known]
        if unknown:
            hints = [h for h in (cls._parameter_hint(name) for name in unknown) if h]
            raise TypeError(
                f"{cls.__name__} got unknown parameters {', '.join(map(repr, unknown))}; "
                + (" ".join(hints) if hints else f"its parameters: {', '.join(sorted(known))}")
            )
        init(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


@dataclass_transform(kw_only_default=True, field_specifiers=(param,))
def declare_params(cls: type[T]) -> type[T]:
    """Class decorator: ``__init__`` and ``_parameter_constraints`` from ``param()`` fields."""
    cls = dataclasses.dataclass(kw_only=True, eq=False, repr=False, match_args=False)(cls)
    cls._parameter_constraints = _Constraints()  # type: ignore[attr-defined]
    return cls


def parameters(cls: type | object) -> dict[str, Param]:
    """The declared parameters of an estimator class (or instance), in declaration order."""
    return {
        f.name: dataclasses.replace(f.metadata["aekit"], name=f.name)
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if "aekit" in f.metadata
    }


def parameters_section(cls: type) -> str:
    """The numpydoc "Parameters" section for ``cls``'s declared parameters."""
    lines = ["Parameters", "----------"]
    for p in parameters(cls).values():
        lines.append(f"{p.name} : {p.describe()}, default={p.default_text()}")
        lines += textwrap.wrap(p.help, 84, initial_indent="    ", subsequent_indent="    ")
    return "\n".join(lines)


def _fill_parameters(doc: str, cls: type) -> str:
    for line in doc.splitlines():
        if line.strip() == PLACEHOLDER:
            indent = line[: len(line) - len(line.lstrip())]
            section = textwrap.indent(parameters_section(cls), indent).lstrip()
            return doc.replace(PLACEHOLDER, section, 1)
    return doc
