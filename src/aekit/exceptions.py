"""Errors aekit raises for problems a user can fix."""

from __future__ import annotations


class AekitError(Exception):
    """Base class of every aekit-specific error."""


class InputError(AekitError, ValueError):
    """Data that aekit cannot use: wrong shape, NaN, non-numeric, empty."""


class ModelFileError(AekitError, ValueError):
    """A file that is not a valid aekit model (foreign, corrupt, too new)."""


class NonFiniteLossError(AekitError, ValueError):
    """Training produced a NaN or infinite loss."""


class MissingExtraError(AekitError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class ExportError(AekitError, ValueError):
    """A model, or a part of one, that cannot be exported; the message names the part."""
