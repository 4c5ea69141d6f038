"""pool primitives (cpu side)."""

__all__ = []
