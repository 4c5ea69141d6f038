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
    array_to_img, img_to_array, load_img, save_img, smart_resize,
)
from gkeras.utils.model_visualization import (  # noqa: F401
    model_to_dot, plot_model,
)
from gkeras.utils.image_dataset_utils import \
    image_dataset_from_directory  # noqa: F401
from gkeras.utils.text_dataset_utils import \
    text_dataset_from_directory  # noqa: F401


from gkeras.utils.config import Config  # noqa: F401
from gkeras.utils.graph_utils import (  # noqa: F401
    get_source_inputs, is_keras_tensor,
)
from gkeras.backend import clear_session, standardize_dtype  # noqa: F401
from gkeras.backend.global_settings import (  # noqa: F401
    disable_interactive_logging, enable_interactive_logging,
    is_interactive_logging_enabled,
)
from gkeras.saving.custom_objects import (  # noqa: F401,E402
    get_registered_name, get_registered_object,
)

# Loaded on first use: these live above `utils` (models, saving, layers),
# which import gkeras.utils themselves. name -> (module, attribute).
_LAZY_NAMES = {
    "FeatureSpace": ("gkeras.utils.feature_space", "FeatureSpace"),
    "pack_x_y_sample_weight": ("gkeras.models.data_adapter",
                               "pack_x_y_sample_weight"),
    "unpack_x_y_sample_weight": ("gkeras.models.data_adapter",
                                 "unpack_x_y_sample_weight"),
    "serialize_keras_object": ("gkeras.saving.serialization",
                               "serialize_keras_object"),
    "deserialize_keras_object": ("gkeras.saving.serialization",
                                 "deserialize_keras_object"),
    "legacy": ("gkeras.utils.legacy", None),
    "audio_dataset_from_directory": ("gkeras.utils.unsupported",
                                     "audio_dataset_from_directory"),
    "bounding_boxes": ("gkeras.utils.unsupported", "bounding_boxes"),
}


def __getattr__(name):
    if name in _LAZY_NAMES:
        import importlib
        module, attr = _LAZY_NAMES[name]
        module = importlib.import_module(module)
        return module if attr is None else getattr(module, attr)
    raise AttributeError(f"module 'gkeras.utils' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_NAMES))
