"""gkeras.layers.normalization: layer implementations (exported from gkeras.layers)."""
