"""pool primitives (gpu side)."""

__all__ = []
