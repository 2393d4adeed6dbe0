"""A local stand-in for the Perplexity (Sonar) HTTP API."""

from mock_server.app import create_app

__all__ = ["create_app"]
