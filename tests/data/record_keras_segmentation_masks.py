"""Records `keras.visualization.draw_segmentation_masks` outputs for
tests/test_visualization.py:

    KERAS_BACKEND=jax python tests/data/record_keras_segmentation_masks.py \
        > tests/data/keras_segmentation_masks.json
"""

import json

import numpy as np


def inputs():
    """The images and masks of every case (shared with the test)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(2, 4, 5, 3)).astype("float32")
    masks = rng.integers(-1, 4, size=(2, 4, 5, 1)).astype("int32")
    return images, masks


CASES = {
    "default": {},
    "no_blend": {"blend": False},
    "classes_5_alpha_0.3": {"num_classes": 5, "alpha": 0.3},
    "mapping": {"num_classes": 3,
                "color_mapping": {0: [255, 0, 0], 1: [0, 255, 0],
                                  2: [0, 0, 255]}},
}


if __name__ == "__main__":
    import keras
    images, masks = inputs()
    out = {}
    for name, kwargs in CASES.items():
        r = keras.visualization.draw_segmentation_masks(images, masks,
                                                        **kwargs)
        r = np.asarray(r)
        out[name] = {"dtype": str(r.dtype), "values": r.tolist()}
    print(json.dumps(out))
