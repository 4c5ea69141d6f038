"""The block configurations of EfficientNetV2 B0-B3, S, M, L (from
Keras's `efficientnet_v2.py`): per variant, the list of stages with
kernel size, repeats, filters, expansion ratio, squeeze-excite ratio,
strides and block type (0: MBConv, 1: FusedMBConv)."""

_COLUMNS = (
    "kernel_size", "num_repeat", "input_filters", "output_filters",
    "expand_ratio", "se_ratio", "strides", "conv_type",
)

# One row per stage, in `_COLUMNS` order (the 0 vs 0.0 of `se_ratio` is
# Keras's own).
_STAGES = {
    "efficientnetv2-s": [
        (3, 2, 24, 24, 1, 0.0, 1, 1),
        (3, 4, 24, 48, 4, 0.0, 2, 1),
        (3, 4, 48, 64, 4, 0, 2, 1),
        (3, 6, 64, 128, 4, 0.25, 2, 0),
        (3, 9, 128, 160, 6, 0.25, 1, 0),
        (3, 15, 160, 256, 6, 0.25, 2, 0),
    ],
    "efficientnetv2-m": [
        (3, 3, 24, 24, 1, 0, 1, 1),
        (3, 5, 24, 48, 4, 0, 2, 1),
        (3, 5, 48, 80, 4, 0, 2, 1),
        (3, 7, 80, 160, 4, 0.25, 2, 0),
        (3, 14, 160, 176, 6, 0.25, 1, 0),
        (3, 18, 176, 304, 6, 0.25, 2, 0),
        (3, 5, 304, 512, 6, 0.25, 1, 0),
    ],
    "efficientnetv2-l": [
        (3, 4, 32, 32, 1, 0, 1, 1),
        (3, 7, 32, 64, 4, 0, 2, 1),
        (3, 7, 64, 96, 4, 0, 2, 1),
        (3, 10, 96, 192, 4, 0.25, 2, 0),
        (3, 19, 192, 224, 6, 0.25, 1, 0),
        (3, 25, 224, 384, 6, 0.25, 2, 0),
        (3, 7, 384, 640, 6, 0.25, 1, 0),
    ],
    "efficientnetv2-b0": [
        (3, 1, 32, 16, 1, 0, 1, 1),
        (3, 2, 16, 32, 4, 0, 2, 1),
        (3, 2, 32, 48, 4, 0, 2, 1),
        (3, 3, 48, 96, 4, 0.25, 2, 0),
        (3, 5, 96, 112, 6, 0.25, 1, 0),
        (3, 8, 112, 192, 6, 0.25, 2, 0),
    ],
    "efficientnetv2-b1": [
        (3, 1, 32, 16, 1, 0, 1, 1),
        (3, 2, 16, 32, 4, 0, 2, 1),
        (3, 2, 32, 48, 4, 0, 2, 1),
        (3, 3, 48, 96, 4, 0.25, 2, 0),
        (3, 5, 96, 112, 6, 0.25, 1, 0),
        (3, 8, 112, 192, 6, 0.25, 2, 0),
    ],
    "efficientnetv2-b2": [
        (3, 1, 32, 16, 1, 0, 1, 1),
        (3, 2, 16, 32, 4, 0, 2, 1),
        (3, 2, 32, 48, 4, 0, 2, 1),
        (3, 3, 48, 96, 4, 0.25, 2, 0),
        (3, 5, 96, 112, 6, 0.25, 1, 0),
        (3, 8, 112, 192, 6, 0.25, 2, 0),
    ],
    "efficientnetv2-b3": [
        (3, 1, 32, 16, 1, 0, 1, 1),
        (3, 2, 16, 32, 4, 0, 2, 1),
        (3, 2, 32, 48, 4, 0, 2, 1),
        (3, 3, 48, 96, 4, 0.25, 2, 0),
        (3, 5, 96, 112, 6, 0.25, 1, 0),
        (3, 8, 112, 192, 6, 0.25, 2, 0),
    ],
}

DEFAULT_BLOCKS_ARGS = {
    variant: [dict(zip(_COLUMNS, row)) for row in rows]
    for variant, rows in _STAGES.items()
}
