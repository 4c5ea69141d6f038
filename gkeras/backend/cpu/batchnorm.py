"""batchnorm primitives (cpu side)."""

__all__ = []
