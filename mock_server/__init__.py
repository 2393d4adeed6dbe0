"""A local stand-in for the Perplexity (Sonar) HTTP API."""

from importlib.metadata import PackageNotFoundError, version

from mock_server.app import create_app

try:
    # Single-sourced from pyproject.toml's `version`.
    __version__ = version("pplx-mock")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__", "create_app"]
