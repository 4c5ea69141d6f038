"""`gkeras.layers`: the layer classes (Keras names)."""

from gkeras.layers.layer import Layer  # noqa: F401
from gkeras.layers.input_spec import InputSpec  # noqa: F401
from gkeras.layers.core.input_layer import Input, InputLayer  # noqa: F401
from gkeras.layers.core.dense import Dense  # noqa: F401
from gkeras.layers.core.activation import Activation  # noqa: F401
from gkeras.layers.core.identity import Identity  # noqa: F401
from gkeras.layers.core.lambda_layer import Lambda  # noqa: F401
from gkeras.layers.regularization.dropout import Dropout  # noqa: F401
from gkeras.layers.regularization.alpha_dropout import AlphaDropout  # noqa: F401,E501
from gkeras.layers.regularization.activity_regularization import (  # noqa: F401,E501
    ActivityRegularization,
)
from gkeras.layers.reshaping.flatten import Flatten  # noqa: F401
from gkeras.layers.reshaping.reshape import Reshape  # noqa: F401
from gkeras.layers.reshaping.permute import Permute  # noqa: F401
from gkeras.layers.reshaping.repeat_vector import RepeatVector  # noqa: F401
from gkeras.layers.convolutional.conv import (  # noqa: F401
    Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Conv3D,
    Conv3DTranspose, Convolution1D, Convolution1DTranspose, Convolution2D,
    Convolution2DTranspose, Convolution3D, Convolution3DTranspose,
    DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D,
    SeparableConvolution1D, SeparableConvolution2D,
)
from gkeras.layers.pooling.pooling import (  # noqa: F401
    AveragePooling1D, AveragePooling2D, AveragePooling3D, AvgPool1D,
    AvgPool2D, AvgPool3D, GlobalAveragePooling1D, GlobalAveragePooling2D,
    GlobalAveragePooling3D, GlobalAvgPool1D, GlobalAvgPool2D,
    GlobalAvgPool3D, GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D,
    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D, MaxPool1D,
    MaxPool2D, MaxPool3D, MaxPooling1D, MaxPooling2D, MaxPooling3D,
)
from gkeras.layers.pooling.adaptive_pooling import (  # noqa: F401
    AdaptiveAveragePooling1D, AdaptiveAveragePooling2D,
    AdaptiveAveragePooling3D, AdaptiveMaxPooling1D, AdaptiveMaxPooling2D,
    AdaptiveMaxPooling3D,
)
from gkeras.layers.normalization.batch_normalization import BatchNormalization  # noqa: F401,E501
from gkeras.layers.reshaping.zero_padding import (  # noqa: F401
    ZeroPadding1D, ZeroPadding2D, ZeroPadding3D,
)
from gkeras.layers.reshaping.cropping import (  # noqa: F401
    Cropping1D, Cropping2D, Cropping3D,
)
from gkeras.layers.reshaping.up_sampling import (  # noqa: F401
    UpSampling1D, UpSampling2D, UpSampling3D,
)
from gkeras.layers.regularization.spatial_dropout import (  # noqa: F401
    SpatialDropout1D, SpatialDropout2D, SpatialDropout3D,
)
from gkeras.layers.regularization.gaussian import (  # noqa: F401
    GaussianDropout, GaussianNoise,
)

from gkeras.layers.core.einsum_dense import EinsumDense  # noqa: F401
from gkeras.layers.normalization.layer_normalization import LayerNormalization  # noqa: F401,E501
from gkeras.layers.attention.multi_head_attention import MultiHeadAttention  # noqa: F401,E501
from gkeras.layers.merging.base_merge import Merge  # noqa: F401
from gkeras.layers.merging.elementwise import Add, add  # noqa: F401
from gkeras.layers.merging.elementwise import Subtract, subtract  # noqa: F401
from gkeras.layers.merging.elementwise import Multiply, multiply  # noqa: F401
from gkeras.layers.merging.elementwise import Average, average  # noqa: F401
from gkeras.layers.merging.elementwise import Maximum, maximum  # noqa: F401
from gkeras.layers.merging.elementwise import Minimum, minimum  # noqa: F401
from gkeras.layers.merging.concatenate import Concatenate, concatenate  # noqa: F401,E501
from gkeras.layers.merging.dot import Dot, dot  # noqa: F401
from gkeras.layers.core.embedding import Embedding  # noqa: F401
from gkeras.layers.core.reversible_embedding import \
    ReversibleEmbedding  # noqa: F401
from gkeras.layers.core.masking import Masking  # noqa: F401
from gkeras.layers.rnn.rnn import RNN  # noqa: F401
from gkeras.layers.rnn.stacked_rnn_cells import StackedRNNCells  # noqa: F401
from gkeras.layers.rnn.simple_rnn import SimpleRNN, SimpleRNNCell  # noqa: F401
from gkeras.layers.rnn.lstm import LSTM, LSTMCell  # noqa: F401
from gkeras.layers.rnn.gru import GRU, GRUCell  # noqa: F401
from gkeras.layers.rnn.conv_lstm import (  # noqa: F401
    ConvLSTM1D, ConvLSTM2D, ConvLSTM3D,
)
from gkeras.layers.rnn.bidirectional import Bidirectional  # noqa: F401
from gkeras.layers.rnn.time_distributed import TimeDistributed  # noqa: F401
from gkeras.layers.normalization.group_normalization import GroupNormalization  # noqa: F401,E501
from gkeras.layers.normalization.unit_normalization import UnitNormalization  # noqa: F401,E501
from gkeras.layers.normalization.rms_normalization import RMSNormalization  # noqa: F401,E501
from gkeras.layers.normalization.spectral_normalization import (  # noqa: F401,E501
    SpectralNormalization,
)
from gkeras.layers.core.wrapper import Wrapper  # noqa: F401
from gkeras.layers.attention.attention import Attention  # noqa: F401
from gkeras.layers.attention.grouped_query_attention import (  # noqa: F401,E501
    GroupedQueryAttention, GroupQueryAttention,
)
from gkeras.layers.attention.additive_attention import AdditiveAttention  # noqa: F401,E501
# Left out on purpose (issue 17): NotImplementedError stand-ins.
from gkeras.utils.unsupported_names import (  # noqa: F401
    FlaxLayer, JaxLayer, TFSMLayer, TorchModuleWrapper,
)
from gkeras.layers.activations.activation_layers import (  # noqa: F401
    ELU, LeakyReLU, PReLU, ReLU, Softmax,
)
from gkeras.layers.preprocessing import (  # noqa: F401
    CategoryEncoding, CenterCrop, Discretization, IntegerLookup, Normalization,
    RandomBrightness, RandomContrast, RandomCrop, RandomFlip, RandomRotation,
    RandomTranslation, RandomZoom, Rescaling, Resizing, StringLookup,
    TextVectorization,
)
from gkeras.layers.preprocessing import (  # noqa: F401  (issue 17)
    HashedCrossing, Hashing, MelSpectrogram, Pipeline, STFTSpectrogram,
)
from gkeras.layers.preprocessing.augmentation import (  # noqa: F401
    AugMix, AutoContrast, ContrastLimitedAdaptiveHistogramEqualization,
    CutMix, Equalization, MaxNumBoundingBoxes, MixUp, RandAugment,
    RandomColorDegeneration, RandomColorJitter, RandomElasticTransform,
    RandomErasing, RandomGaussianBlur, RandomGrayscale, RandomHue,
    RandomInvert, RandomPerspective, RandomPosterization, RandomSaturation,
    RandomSharpness, RandomShear, Solarization,
)


def serialize(layer):
    """Returns the Keras config dict of a layer."""
    from gkeras.saving.serialization import serialize_keras_object
    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """Rebuilds a layer from its config."""
    from gkeras.saving.serialization import deserialize_keras_object
    return deserialize_keras_object(config, custom_objects=custom_objects)
