"""Keras 3's image augmentation layers (`AutoContrast`, `CutMix`,
`Equalization`, `MixUp`, `RandomHue`, ...), on NumPy and CuPy images."""

from gkeras.layers.preprocessing.augmentation.clahe import (  # noqa: F401
    ContrastLimitedAdaptiveHistogramEqualization,
)
from gkeras.layers.preprocessing.augmentation.color import (  # noqa: F401
    RandomColorDegeneration, RandomGaussianBlur, RandomGrayscale, RandomHue,
    RandomInvert, RandomPosterization, RandomSaturation, RandomSharpness,
    Solarization,
)
from gkeras.layers.preprocessing.augmentation.contrast import (  # noqa: F401
    AutoContrast, Equalization,
)
from gkeras.layers.preprocessing.augmentation.bounding_boxes import (  # noqa
    MaxNumBoundingBoxes,
)
from gkeras.layers.preprocessing.augmentation.composite import (  # noqa
    AugMix, RandAugment, RandomColorJitter,
)
from gkeras.layers.preprocessing.augmentation.geometric import (  # noqa
    RandomElasticTransform, RandomPerspective, RandomShear,
)
from gkeras.layers.preprocessing.augmentation.mixing import (  # noqa: F401
    CutMix, MixUp, RandomErasing,
)

__all__ = [
    "ContrastLimitedAdaptiveHistogramEqualization", "MaxNumBoundingBoxes", "AugMix", "RandAugment", "RandomColorJitter", "AutoContrast", "CutMix", "Equalization", "MixUp",
    "RandomColorDegeneration", "RandomElasticTransform", "RandomErasing",
    "RandomGaussianBlur", "RandomGrayscale", "RandomHue", "RandomInvert",
    "RandomPerspective", "RandomPosterization", "RandomSaturation",
    "RandomSharpness", "RandomShear", "Solarization",
]
