"""attention primitives (gpu side)."""

__all__ = []
