"""Activation layers (ReLU, LeakyReLU, PReLU, ELU, Softmax)."""
