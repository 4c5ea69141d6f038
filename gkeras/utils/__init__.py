"""`gkeras.utils`: seeding, data conversion and other helpers (Keras names)."""

from gkeras.utils.random_utils import set_random_seed  # noqa: F401
from gkeras.utils.numerical_utils import normalize, to_categorical  # noqa: F401
from gkeras.utils.file_utils import get_file  # noqa: F401
from gkeras.utils.dataset_utils import (  # noqa: F401
    split_dataset, timeseries_dataset_from_array,
)
from gkeras.utils.progbar import Progbar  # noqa: F401
from gkeras.preprocessing.sequence import pad_sequences  # noqa: F401
from gkeras.saving.custom_objects import (  # noqa: F401
    CustomObjectScope, custom_object_scope, get_custom_objects,
    register_keras_serializable,
)
from gkeras.utils.py_dataset import PyDataset, Sequence  # noqa: F401
from gkeras.utils.image_utils import (  # noqa: F401
    array_to_img, img_to_array, load_img, model_to_dot, plot_model, save_img,
    smart_resize,
)
from gkeras.utils.image_dataset_utils import \
    image_dataset_from_directory  # noqa: F401
from gkeras.utils.text_dataset_utils import \
    text_dataset_from_directory  # noqa: F401


def __getattr__(name):
    # FeatureSpace is built on the layers package, which imports
    # gkeras.utils: it loads on first use.
    if name == "FeatureSpace":
        from gkeras.utils.feature_space import FeatureSpace
        return FeatureSpace
    raise AttributeError(f"module 'gkeras.utils' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"FeatureSpace"})
