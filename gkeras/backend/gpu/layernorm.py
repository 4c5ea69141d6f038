"""layernorm primitives (gpu side)."""

__all__ = []
