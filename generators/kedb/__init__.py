"""kedb — a known-error knowledge base kept as code."""

__version__ = "0.1.0"
