"""rnn primitives (cpu side)."""

__all__ = []
