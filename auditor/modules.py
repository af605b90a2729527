"""The modules of a package directory, by name, without importing them (nor ``pkgutil``,
whose import alone costs more than listing a directory): how report formats and commands are
found."""

from __future__ import annotations

import os
from collections.abc import Iterable


def module_names(package_paths: Iterable[str]) -> set[str]:
    """The names of the Python modules in these directories (a package's ``__path__``)."""
    names = set()
    for path in package_paths:
        for entry in os.scandir(path):
            name, dot, extension = entry.name.partition(".")
            if entry.is_file() and dot and extension == "py" and name.isidentifier():
                names.add(name)
    return names
