"""conv primitives (gpu side)."""

__all__ = []
