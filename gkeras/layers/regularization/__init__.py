"""gkeras.layers.regularization: layer implementations (exported from gkeras.layers)."""
