"""gkeras.layers.attention: layer implementations (exported from gkeras.layers)."""
