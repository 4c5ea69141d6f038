"""gkeras.layers.merging: layer implementations (exported from gkeras.layers)."""
