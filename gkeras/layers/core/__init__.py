"""gkeras.layers.core: layer implementations (exported from gkeras.layers)."""
