"""The one error hierarchy: every mistake in what a user asks for is a ``ParameterError``.

The standard library only, so that every layer (the core, the kinds, the command line before it
imports numpy) raises and catches the same classes. The front-ends map them to messages and
exit codes in one place each (``convanim.cli.fail``, the manifest's ``FigureError``, the Sphinx
directive's warning).
"""

from __future__ import annotations

__all__ = ["ConvSpecError", "ParameterError"]


class ParameterError(ValueError):
    """An invalid parameter; ``param`` names it as the library spells it (``kernel_size``),
    ``detail`` says what was given and what would be valid."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.detail = message


# The name the geometry engine has always raised and documented.
ConvSpecError = ParameterError
