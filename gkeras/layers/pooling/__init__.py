"""gkeras.layers.pooling: layer implementations (exported from gkeras.layers)."""
