"""gkeras.layers.convolutional: layer implementations (exported from gkeras.layers)."""
