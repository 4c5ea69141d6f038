"""layernorm primitives (cpu side)."""

__all__ = []
