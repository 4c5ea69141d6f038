"""attention primitives (cpu side)."""

__all__ = []
