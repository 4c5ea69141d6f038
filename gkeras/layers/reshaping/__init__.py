"""gkeras.layers.reshaping: layer implementations (exported from gkeras.layers)."""
