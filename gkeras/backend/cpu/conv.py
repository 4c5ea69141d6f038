"""conv primitives (cpu side)."""

__all__ = []
