"""CUDA-on-CPU emulation harness for the kernels of `kernels/` (see emu.py)."""
