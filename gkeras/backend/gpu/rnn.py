"""rnn primitives (gpu side)."""

__all__ = []
