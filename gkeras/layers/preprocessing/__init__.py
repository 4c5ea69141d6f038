"""Keras preprocessing layers: image, numerical, categorical and text.

Each layer's `adapt()` (where it has one) learns its state on the host with
NumPy; gkeras has no tf.data, so `adapt()` takes arrays, lists, or any
iterable of batches.
"""

from gkeras.layers.preprocessing.category_encoding import CategoryEncoding
from gkeras.layers.preprocessing.discretization import Discretization
from gkeras.layers.preprocessing.hashing import HashedCrossing, Hashing
from gkeras.layers.preprocessing.mel_spectrogram import MelSpectrogram
from gkeras.layers.preprocessing.pipeline import Pipeline
from gkeras.layers.preprocessing.stft_spectrogram import STFTSpectrogram
from gkeras.layers.preprocessing.image_augmentation import (
    RandomBrightness, RandomContrast, RandomCrop, RandomFlip, RandomRotation,
    RandomTranslation, RandomZoom,
)
from gkeras.layers.preprocessing.image_preprocessing import (
    CenterCrop, Rescaling, Resizing,
)
from gkeras.layers.preprocessing.index_lookup import IntegerLookup, StringLookup
from gkeras.layers.preprocessing.normalization import Normalization
from gkeras.layers.preprocessing.text_vectorization import TextVectorization

__all__ = [
    "CategoryEncoding", "CenterCrop", "Discretization", "HashedCrossing",
    "Hashing", "IntegerLookup", "MelSpectrogram", "Pipeline",
    "STFTSpectrogram",
    "Normalization", "RandomBrightness", "RandomContrast", "RandomCrop",
    "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom",
    "Rescaling", "Resizing", "StringLookup", "TextVectorization",
]
