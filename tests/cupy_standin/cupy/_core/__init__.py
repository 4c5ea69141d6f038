"""The part of `cupy._core` gkeras touches (cuBLAS compute types)."""
