"""The installed package's version: what `gaodedim --version` and the OpenAPI `info` say."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    try:
        return version("gaodedim")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0.0.0"
