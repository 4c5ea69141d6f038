"""batchnorm primitives (gpu side)."""

__all__ = []
