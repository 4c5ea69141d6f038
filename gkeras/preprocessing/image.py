"""Keras-2 image preprocessing: `ImageDataGenerator` and its transforms.

Real-time data augmentation as `keras.preprocessing.image` does it:
random parameters are drawn per image from NumPy's global random state
(seeded per batch when a `seed` is given), with the same draws in the same
order as Keras, and geometric transforms are one affine map per image
(rotation, shift, shear, zoom composed about the image centre), resampled
with `scipy.ndimage.affine_transform` on the CPU or
`cupyx.scipy.ndimage.affine_transform` when the arrays live on the GPU.

SciPy (transforms) and Pillow (image files) are the optional `image`
extra: `pip install gkeras[image]`.

Example:

```python
datagen = ImageDataGenerator(rotation_range=20, width_shift_range=0.1,
                             horizontal_flip=True,
                             featurewise_center=True)
datagen.fit(x_train)
model.fit(datagen.flow(x_train, y_train, batch_size=32), epochs=10)
```
"""

import os
import threading
import warnings

import numpy as np

from gkeras import backend
from gkeras.backend.config import floatx, standardize_data_format
from gkeras.utils.image_utils import (  # noqa: F401  (Keras-2 names)
    array_to_img, img_to_array, load_img, save_img, smart_resize,
)
from gkeras.utils.py_dataset import PyDataset

__all__ = [
    "ImageDataGenerator", "Iterator", "NumpyArrayIterator",
    "DirectoryIterator", "apply_affine_transform", "apply_brightness_shift",
    "apply_channel_shift", "array_to_img", "flip_axis", "img_to_array",
    "load_img", "random_brightness", "random_channel_shift",
    "random_rotation", "random_shear", "random_shift", "random_zoom",
    "save_img", "smart_resize", "transform_matrix_offset_center",
]

_FILL_MODES = ("constant", "nearest", "reflect", "wrap")


def _xp(x):
    return backend.get_array_module(x)


# --------------------------------------------------------------------------
# Array-level transforms (NumPy or CuPy)
# --------------------------------------------------------------------------

def transform_matrix_offset_center(matrix, x, y):
    """Conjugates a 3x3 transform so it acts about the image centre.

    Args:
        matrix: 3x3 transform in (row, col) pixel coordinates.
        x, y: the image's number of rows and columns.

    Returns:
        The 3x3 matrix `T(c) @ matrix @ T(-c)`, `c` the centre, with Keras's
        `size / 2 + 0.5` convention.
    """
    o_x = float(x) / 2 + 0.5
    o_y = float(y) / 2 + 0.5
    offset = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    return offset @ matrix @ reset


def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1,
                           row_axis=1, col_axis=2, channel_axis=0,
                           fill_mode="nearest", cval=0.0, order=1):
    """Applies an affine transformation to one image.

    The parameters compose as Keras does: rotation, then shift, shear and
    zoom, about the image centre; each maps output pixel coordinates to
    input ones.

    Args:
        x: 3D image (NumPy, or CuPy to run on the GPU).
        theta: rotation angle in degrees (counter-clockwise).
        tx: shift along the row axis, in pixels.
        ty: shift along the column axis, in pixels.
        shear: shear angle in degrees.
        zx: zoom along the row axis (> 1 zooms out).
        zy: zoom along the column axis.
        row_axis, col_axis, channel_axis: axes of `x` (defaults:
            channels first).
        fill_mode: `"constant"`, `"nearest"`, `"reflect"` or `"wrap"`.
        cval: fill value for `"constant"`.
        order: interpolation spline order (1: bilinear).

    Returns:
        The transformed image (same shape and dtype).

    Example:
    >>> rotated = apply_affine_transform(img, theta=90, row_axis=0,
    ...                                  col_axis=1, channel_axis=2)
    """
    if fill_mode not in _FILL_MODES:
        raise ValueError(f"Invalid fill_mode {fill_mode!r}. Expected one of "
                         f"{list(_FILL_MODES)}.")
    matrix = None
    if theta != 0:
        t = np.deg2rad(theta)
        matrix = np.array([[np.cos(t), -np.sin(t), 0],
                           [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    if tx != 0 or ty != 0:
        shift = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
        matrix = shift if matrix is None else matrix @ shift
    if shear != 0:
        s = np.deg2rad(shear)
        shear_m = np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0],
                            [0, 0, 1]])
        matrix = shear_m if matrix is None else matrix @ shear_m
    if zx != 1 or zy != 1:
        zoom = np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
        matrix = zoom if matrix is None else matrix @ zoom
    if matrix is None:
        return x
    h, w = x.shape[row_axis], x.shape[col_axis]
    matrix = transform_matrix_offset_center(matrix, h, w)
    xp = _xp(x)
    chans = xp.moveaxis(x, channel_axis, 0)
    # As Keras: the matrix is read in (x, y) = (col, row) order, so when
    # rows precede columns in memory it is conjugated by the swap
    # (M' = P M P). This is why `tx` (drawn from height_shift_range)
    # moves the image along its columns, exactly as in Keras.
    if col_axis > row_axis:
        matrix[:, [0, 1]] = matrix[:, [1, 0]]
        matrix[[0, 1]] = matrix[[1, 0]]
    out = backend.kernels_for(x).affine_transform_channels(
        xp.ascontiguousarray(chans), matrix[:2, :2], matrix[:2, 2],
        order=order, mode=fill_mode, cval=cval)
    return xp.moveaxis(out, 0, channel_axis)


def apply_channel_shift(x, intensity, channel_axis=0):
    """Adds `intensity` to every channel, clipped to the image's original
    min/max.

    Args:
        x: 3D image.
        intensity: the shift.
        channel_axis: index of the channel axis.

    Returns:
        The shifted image.
    """
    xp = _xp(x)
    lo, hi = xp.min(x), xp.max(x)
    return xp.clip(x + intensity, lo, hi).astype(x.dtype, copy=False)


def apply_brightness_shift(x, brightness, scale=True):
    """Multiplies the image brightness by `brightness`.

    As Keras (through Pillow's `ImageEnhance.Brightness`): values are
    taken in the 0-255 range (rescaled from the image's min/max when it
    lies outside 0-255, or when `scale`), multiplied, clipped to 0-255 and
    mapped back. Unlike Keras, the result is not quantized to 8 bits.

    Args:
        x: 3D image.
        brightness: the factor (1: unchanged, 0: black).
        scale: map the image's min/max to 0-255 first (and back after).

    Returns:
        The image with brightness shifted.
    """
    xp = _xp(x)
    x_min, x_max = float(xp.min(x)), float(xp.max(x))
    local_scale = x_min < 0 or x_max > 255
    if local_scale or scale:
        rng = x_max - x_min
        y = (x - x_min) * (255.0 / rng) if rng else x - x_min
    else:
        y = x
    y = xp.clip(y * brightness, 0, 255)
    if local_scale and not scale:
        # Keras maps back to the original range only in this case; with
        # `scale` the result stays in 0-255.
        y = y / 255.0 * (x_max - x_min) + x_min
    return y.astype(x.dtype, copy=False)


def flip_axis(x, axis):
    """Reverses `x` along `axis`."""
    return _xp(x).flip(x, axis=axis)


def _check_image(x, name):
    if getattr(x, "ndim", None) != 3:
        raise ValueError(f"{name} expects a single 3D image; received an "
                         f"array of shape {getattr(x, 'shape', None)}.")


def random_rotation(x, rg, row_axis=1, col_axis=2, channel_axis=0,
                    fill_mode="nearest", cval=0.0, interpolation_order=1):
    """Rotates an image by a random angle in `[-rg, rg]` degrees."""
    _check_image(x, "random_rotation")
    theta = np.random.uniform(-rg, rg)
    return apply_affine_transform(x, theta=theta, row_axis=row_axis,
                                  col_axis=col_axis,
                                  channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_shift(x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0,
                 fill_mode="nearest", cval=0.0, interpolation_order=1):
    """Shifts an image randomly by up to `hrg`/`wrg` of its height/width."""
    _check_image(x, "random_shift")
    h, w = x.shape[row_axis], x.shape[col_axis]
    tx = np.random.uniform(-hrg, hrg) * h
    ty = np.random.uniform(-wrg, wrg) * w
    return apply_affine_transform(x, tx=tx, ty=ty, row_axis=row_axis,
                                  col_axis=col_axis,
                                  channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_shear(x, intensity, row_axis=1, col_axis=2, channel_axis=0,
                 fill_mode="nearest", cval=0.0, interpolation_order=1):
    """Shears an image by a random angle in `[-intensity, intensity]`
    degrees."""
    _check_image(x, "random_shear")
    shear = np.random.uniform(-intensity, intensity)
    return apply_affine_transform(x, shear=shear, row_axis=row_axis,
                                  col_axis=col_axis,
                                  channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_zoom(x, zoom_range, row_axis=1, col_axis=2, channel_axis=0,
                fill_mode="nearest", cval=0.0, interpolation_order=1):
    """Zooms an image by random factors drawn from `zoom_range`
    (a `(lower, upper)` pair), independently per axis."""
    _check_image(x, "random_zoom")
    if len(zoom_range) != 2:
        raise ValueError("`zoom_range` should be a tuple or list of two "
                         f"floats. Received: {zoom_range}")
    if zoom_range[0] == 1 and zoom_range[1] == 1:
        zx, zy = 1, 1
    else:
        zx, zy = np.random.uniform(zoom_range[0], zoom_range[1], 2)
    return apply_affine_transform(x, zx=zx, zy=zy, row_axis=row_axis,
                                  col_axis=col_axis,
                                  channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_channel_shift(x, intensity_range, channel_axis=0):
    """Shifts all channels by a random value in
    `[-intensity_range, intensity_range]`."""
    intensity = np.random.uniform(-intensity_range, intensity_range)
    return apply_channel_shift(x, intensity, channel_axis=channel_axis)


def random_brightness(x, brightness_range, scale=True):
    """Multiplies the brightness by a random factor from
    `brightness_range` (a `(lower, upper)` pair)."""
    if len(brightness_range) != 2:
        raise ValueError("`brightness_range` should be a tuple or list of "
                         f"two floats. Received: {brightness_range}")
    u = np.random.uniform(brightness_range[0], brightness_range[1])
    return apply_brightness_shift(x, u, scale)


# --------------------------------------------------------------------------
# Iterators
# --------------------------------------------------------------------------

class Iterator(PyDataset):
    """Base class of the image iterators: a `PyDataset` of batches that is
    also an infinite Python iterator (`next(it)`), as in Keras 2.

    Args:
        n: number of samples.
        batch_size: batch size.
        shuffle: reshuffle the sample order every epoch.
        seed: seed for shuffling and the random transforms.
    """

    white_list_formats = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")

    def __init__(self, n, batch_size, shuffle, seed):
        super().__init__()
        if isinstance(batch_size, bool) or not isinstance(
                batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError("`batch_size` must be a positive integer. "
                             f"Received: batch_size={batch_size!r}")
        self.n = int(n)
        self.batch_size = int(batch_size)
        self.seed = seed
        self.shuffle = bool(shuffle)
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array = None

    def _set_index_array(self):
        self.index_array = np.arange(self.n)
        if self.shuffle:
            self.index_array = np.random.permutation(self.n)

    def __getitem__(self, idx):
        if idx >= len(self) or idx < -len(self):
            raise IndexError(
                f"Asked to retrieve batch {idx}, but the iterator has "
                f"{len(self)} batches.")
        idx = idx % len(self)
        if self.seed is not None:
            np.random.seed(self.seed + self.total_batches_seen)
        self.total_batches_seen += 1
        if self.index_array is None:
            self._set_index_array()
        index_array = self.index_array[self.batch_size * idx:
                                       self.batch_size * (idx + 1)]
        return self._get_batches_of_transformed_samples(index_array)

    def __len__(self):
        return (self.n + self.batch_size - 1) // self.batch_size

    def on_epoch_end(self):
        self._set_index_array()

    def reset(self):
        """Restarts iteration at the first batch."""
        self.batch_index = 0

    def _next_index_array(self):
        with self.lock:
            if self.seed is not None:
                np.random.seed(self.seed + self.total_batches_seen)
            if self.batch_index == 0:
                self._set_index_array()
            if self.n == 0:
                raise ValueError("The iterator has no samples.")
            start = (self.batch_index * self.batch_size) % self.n
            if self.n > start + self.batch_size:
                self.batch_index += 1
            else:
                self.batch_index = 0
            self.total_batches_seen += 1
            return self.index_array[start:start + self.batch_size]

    def __iter__(self):
        return self

    def __next__(self):
        return self._get_batches_of_transformed_samples(
            self._next_index_array())

    def next(self):
        """Returns the next batch (Keras-2 spelling of `next(it)`)."""
        return self.__next__()

    def _get_batches_of_transformed_samples(self, index_array):
        raise NotImplementedError


def _save_batch(it, batch_x, index_array):
    for i, j in enumerate(index_array):
        img = array_to_img(backend.to_numpy(batch_x[i]), it.data_format,
                           scale=True)
        fname = (f"{it.save_prefix}_{int(j)}_{np.random.randint(1e4)}."
                 f"{it.save_format}")
        img.save(os.path.join(it.save_to_dir, fname))


class NumpyArrayIterator(Iterator):
    """Batches of augmented images from in-memory arrays (what
    `ImageDataGenerator.flow` returns).

    Args:
        x: rank-4 image array, or a tuple `(images, misc)` where `misc` is
            an array or list of arrays passed through unchanged.
        y: labels (same length as `x`), or None.
        image_data_generator: the `ImageDataGenerator`.
        batch_size, shuffle, seed: see `Iterator`.
        sample_weight: per-sample weights, or None.
        data_format: image data format.
        save_to_dir, save_prefix, save_format: save augmented images.
        subset: `"training"` or `"validation"` (with the generator's
            `validation_split`).
        ignore_class_split: do not check that both subsets hold the same
            classes.
        dtype: dtype of the batches.
    """

    def __init__(self, x, y, image_data_generator, batch_size=32,
                 shuffle=False, sample_weight=None, seed=None,
                 data_format=None, save_to_dir=None, save_prefix="",
                 save_format="png", subset=None, ignore_class_split=False,
                 dtype=None):
        dtype = dtype or image_data_generator.dtype
        self.dtype = dtype
        if isinstance(x, tuple) or isinstance(x, list):
            if not isinstance(x[1], list):
                x_misc = [np.asarray(x[1])]
            else:
                x_misc = [np.asarray(xx) for xx in x[1]]
            x = x[0]
            for xx in x_misc:
                if len(x) != len(xx):
                    raise ValueError(
                        "All of the arrays in `x` should have the same "
                        f"length. Found a pair with: len(x[0]) = {len(x)}, "
                        f"len(x[?]) = {len(xx)}")
        else:
            x_misc = []
        if y is not None and len(x) != len(y):
            raise ValueError(
                "`x` (images tensor) and `y` (labels) should have the same "
                f"length. Found: x.shape = {np.shape(x)}, y.shape = "
                f"{np.shape(y)}")
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError(
                "`x` (images tensor) and `sample_weight` should have the "
                f"same length. Found: x.shape = {np.shape(x)}, "
                f"sample_weight.shape = {np.shape(sample_weight)}")
        if subset is not None:
            if subset not in ("training", "validation"):
                raise ValueError(f"Invalid subset name: {subset!r}; "
                                 'expected "training" or "validation".')
            split_idx = int(len(x) * image_data_generator._validation_split)
            if y is not None and not ignore_class_split and not \
                    np.array_equal(np.unique(y[:split_idx]),
                                   np.unique(y[split_idx:])):
                raise ValueError(
                    "Training and validation subsets have different number "
                    "of classes after the split. If your numpy arrays are "
                    "sorted by the label, you might want to shuffle them.")
            sl = slice(None, split_idx) if subset == "validation" else \
                slice(split_idx, None)
            x = x[sl]
            x_misc = [xx[sl] for xx in x_misc]
            if y is not None:
                y = y[sl]
            if sample_weight is not None:
                sample_weight = sample_weight[sl]
        self.x = np.asarray(x, dtype=self.dtype)
        self.x_misc = x_misc
        if self.x.ndim != 4:
            raise ValueError(
                "Input data in `NumpyArrayIterator` should have rank 4 "
                "(samples, height, width, channels for channels_last). You "
                f"passed an array with shape {self.x.shape}. Add a channel "
                "axis with `x[..., None]` for grayscale images.")
        self.data_format = standardize_data_format(data_format)
        channels_axis = 3 if self.data_format == "channels_last" else 1
        if self.x.shape[channels_axis] not in (1, 3, 4):
            warnings.warn(
                f'NumpyArrayIterator is set to use the data format convention'
                f' "{self.data_format}" (channels on axis {channels_axis}), '
                f"i.e. expected either 1, 3, or 4 channels on axis "
                f"{channels_axis}. However, it was passed an array with shape "
                f"{self.x.shape} ({self.x.shape[channels_axis]} channels).",
                stacklevel=2)
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = None if sample_weight is None else \
            np.asarray(sample_weight)
        self.image_data_generator = image_data_generator
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        super().__init__(self.x.shape[0], batch_size, shuffle, seed)

    def _get_batches_of_transformed_samples(self, index_array):
        gen = self.image_data_generator
        on_gpu = backend.backend() == "cupy"
        xs = []
        for j in index_array:
            x = self.x[j]
            if on_gpu:
                x = backend.to_device(x)
            params = gen.get_random_transform(x.shape)
            x = gen.apply_transform(x.astype(self.dtype, copy=False), params)
            xs.append(gen.standardize(x))
        xp = backend.get_xp() if on_gpu else np
        batch_x = xp.stack(xs) if xs else xp.zeros(
            (0,) + self.x.shape[1:], self.dtype)
        batch_x = batch_x.astype(self.dtype, copy=False)
        if self.save_to_dir:
            _save_batch(self, batch_x, index_array)
        misc = [xx[index_array] for xx in self.x_misc]
        out_x = batch_x if not misc else [batch_x] + misc
        if self.y is None:
            return out_x
        output = (out_x, self.y[index_array])
        if self.sample_weight is not None:
            output += (self.sample_weight[index_array],)
        return output


class DirectoryIterator(Iterator):
    """Batches of augmented images read from class sub-folders (what
    `ImageDataGenerator.flow_from_directory` returns).

    Args:
        directory: the folder holding one sub-folder per class.
        image_data_generator: the `ImageDataGenerator`.
        target_size: `(height, width)` images are resized to.
        color_mode: `"grayscale"`, `"rgb"` or `"rgba"`.
        classes: class sub-folder names (default: all, sorted).
        class_mode: `"categorical"`, `"binary"`, `"sparse"`, `"input"` or
            None.
        batch_size, shuffle, seed: see `Iterator`.
        data_format: image data format.
        save_to_dir, save_prefix, save_format: save augmented images.
        follow_links: follow symbolic links.
        subset: `"training"` or `"validation"`.
        interpolation: resize method.
        keep_aspect_ratio: centre-crop to the target aspect ratio.
        dtype: dtype of the batches.

    Attributes:
        filenames, classes (label per file), class_indices, samples.
    """

    allowed_class_modes = ("categorical", "binary", "sparse", "input", None)

    def __init__(self, directory, image_data_generator,
                 target_size=(256, 256), color_mode="rgb", classes=None,
                 class_mode="categorical", batch_size=32, shuffle=True,
                 seed=None, data_format=None, save_to_dir=None,
                 save_prefix="", save_format="png", follow_links=False,
                 subset=None, interpolation="nearest",
                 keep_aspect_ratio=False, dtype=None):
        self.image_data_generator = image_data_generator
        self.dtype = dtype or image_data_generator.dtype
        self.directory = directory
        self.target_size = tuple(target_size)
        self.keep_aspect_ratio = keep_aspect_ratio
        if color_mode not in ("rgb", "rgba", "grayscale"):
            raise ValueError(f"Invalid color mode: {color_mode!r}; expected "
                             '"rgb", "rgba", or "grayscale".')
        self.color_mode = color_mode
        self.data_format = standardize_data_format(data_format)
        channels = {"rgba": 4, "rgb": 3, "grayscale": 1}[color_mode]
        self.image_shape = (self.target_size + (channels,)
                            if self.data_format == "channels_last"
                            else (channels,) + self.target_size)
        if class_mode not in self.allowed_class_modes:
            raise ValueError(f"Invalid class_mode: {class_mode!r}; expected "
                             f"one of {list(self.allowed_class_modes)}")
        self.class_mode = class_mode
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        self.interpolation = interpolation
        if subset is not None:
            if subset not in ("training", "validation"):
                raise ValueError(f"Invalid subset name: {subset!r}; "
                                 'expected "training" or "validation".')
            vs = image_data_generator._validation_split
            split = (0, vs) if subset == "validation" else (vs, 1)
        else:
            split = None
        self.split = split
        self.subset = subset
        if not os.path.isdir(directory):
            raise ValueError(f"flow_from_directory: {directory!r} is not a "
                             "directory.")
        if not classes:
            classes = sorted(d for d in os.listdir(directory)
                             if os.path.isdir(os.path.join(directory, d)))
        self.num_classes = len(classes)
        self.class_indices = dict(zip(classes, range(len(classes))))
        filenames, labels = [], []
        for cls in classes:
            files = []
            for root, _, fnames in sorted(os.walk(
                    os.path.join(directory, cls), followlinks=follow_links)):
                for fname in sorted(fnames):
                    if fname.lower().endswith(
                            tuple("." + e for e in self.white_list_formats)):
                        files.append(os.path.join(root, fname))
            if split is not None:
                n = len(files)
                files = files[int(split[0] * n):int(split[1] * n)]
            filenames.extend(os.path.relpath(f, directory) for f in files)
            labels.extend([self.class_indices[cls]] * len(files))
        self.filenames = filenames
        self._filepaths = [os.path.join(directory, f) for f in filenames]
        self.classes = np.asarray(labels, dtype="int32")
        self.samples = len(filenames)
        print(f"Found {self.samples} images belonging to {self.num_classes} "
              "classes.")
        super().__init__(self.samples, batch_size, shuffle, seed)

    @property
    def filepaths(self):
        """Absolute paths of the image files."""
        return self._filepaths

    @property
    def labels(self):
        """The class index of each file."""
        return self.classes

    def _get_batches_of_transformed_samples(self, index_array):
        gen = self.image_data_generator
        batch_x = np.zeros((len(index_array),) + self.image_shape,
                           dtype=self.dtype)
        for i, j in enumerate(index_array):
            img = load_img(self._filepaths[j], color_mode=self.color_mode,
                           target_size=self.target_size,
                           interpolation=self.interpolation,
                           keep_aspect_ratio=self.keep_aspect_ratio)
            x = img_to_array(img, data_format=self.data_format)
            if hasattr(img, "close"):
                img.close()
            params = gen.get_random_transform(x.shape)
            x = gen.apply_transform(x, params)
            batch_x[i] = backend.to_numpy(gen.standardize(x))
        if self.save_to_dir:
            _save_batch(self, batch_x, index_array)
        if self.class_mode == "input":
            batch_y = batch_x.copy()
        elif self.class_mode == "sparse":
            batch_y = self.classes[index_array].astype(self.dtype)
        elif self.class_mode == "binary":
            batch_y = self.classes[index_array].astype(self.dtype)
        elif self.class_mode == "categorical":
            batch_y = np.zeros((len(index_array), self.num_classes),
                               dtype=self.dtype)
            batch_y[np.arange(len(index_array)),
                    self.classes[index_array]] = 1.0
        else:
            return batch_x
        return batch_x, batch_y


# --------------------------------------------------------------------------
# ImageDataGenerator
# --------------------------------------------------------------------------

class ImageDataGenerator:
    """Generates batches of image data with real-time augmentation
    (Keras 2 API).

    Args:
        featurewise_center: subtract the dataset mean (per channel; needs
            `fit`).
        samplewise_center: subtract each image's mean.
        featurewise_std_normalization: divide by the dataset std (per
            channel; needs `fit`).
        samplewise_std_normalization: divide each image by its std.
        zca_whitening: apply ZCA whitening (needs `fit`).
        zca_epsilon: epsilon for ZCA whitening.
        rotation_range: degrees, random rotation in `[-r, r]`.
        width_shift_range: float (fraction of the width if < 1, pixels
            otherwise), 1-D array-like (random choice, random sign) or int
            (pixels from `range(n)`, random sign), as Keras.
        height_shift_range: same, for the height.
        brightness_range: `(lower, upper)` brightness factors, or None.
        shear_range: shear angle in degrees, counter-clockwise.
        zoom_range: float `z` (range `[1-z, 1+z]`) or `[lower, upper]`.
        channel_shift_range: random channel shift range.
        fill_mode: `"constant"`, `"nearest"`, `"reflect"` or `"wrap"`.
        cval: fill value for `"constant"`.
        horizontal_flip: random horizontal flips.
        vertical_flip: random vertical flips.
        rescale: factor multiplied into the data first (e.g. `1/255`).
        preprocessing_function: function applied to each image (after
            augmentation, before normalization), taking and returning a 3D
            array.
        data_format: `"channels_last"` or `"channels_first"`.
        validation_split: fraction kept for validation (`subset=` in
            `flow`/`flow_from_directory`).
        interpolation_order: spline order for the geometric transforms.
        dtype: dtype of the generated arrays (default `floatx()`).

    Example:

    ```python
    datagen = ImageDataGenerator(rotation_range=20, horizontal_flip=True)
    datagen.fit(x_train)
    model.fit(datagen.flow(x_train, y_train, batch_size=32), epochs=10)
    ```
    """

    def __init__(self, featurewise_center=False, samplewise_center=False,
                 featurewise_std_normalization=False,
                 samplewise_std_normalization=False, zca_whitening=False,
                 zca_epsilon=1e-6, rotation_range=0, width_shift_range=0.0,
                 height_shift_range=0.0, brightness_range=None,
                 shear_range=0.0, zoom_range=0.0, channel_shift_range=0.0,
                 fill_mode="nearest", cval=0.0, horizontal_flip=False,
                 vertical_flip=False, rescale=None,
                 preprocessing_function=None, data_format=None,
                 validation_split=0.0, interpolation_order=1, dtype=None):
        self.dtype = dtype or floatx()
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening = zca_whitening
        self.zca_epsilon = zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.shear_range = shear_range
        self.zoom_range = zoom_range
        self.channel_shift_range = channel_shift_range
        if fill_mode not in _FILL_MODES:
            raise ValueError(f"Invalid fill_mode {fill_mode!r}. Expected one "
                             f"of {list(_FILL_MODES)}.")
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        if preprocessing_function is not None and not callable(
                preprocessing_function):
            raise TypeError("`preprocessing_function` must be callable. "
                            f"Received: {preprocessing_function!r}")
        self.preprocessing_function = preprocessing_function
        self.interpolation_order = interpolation_order
        data_format = standardize_data_format(data_format)
        self.data_format = data_format
        if data_format == "channels_first":
            self.channel_axis, self.row_axis, self.col_axis = 1, 2, 3
        else:
            self.channel_axis, self.row_axis, self.col_axis = 3, 1, 2
        if not 0 <= validation_split < 1:
            raise ValueError(
                "`validation_split` must be strictly between 0 and 1. "
                f"Received: {validation_split}")
        self._validation_split = validation_split
        self.mean = None
        self.std = None
        self.principal_components = None
        if isinstance(zoom_range, (float, int)):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif len(zoom_range) == 2 and all(
                isinstance(v, (float, int)) for v in zoom_range):
            self.zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise ValueError("`zoom_range` should be a float or a tuple or "
                             f"list of two floats. Received: {zoom_range}")
        if brightness_range is not None:
            if not isinstance(brightness_range, (tuple, list, np.ndarray)) \
                    or len(brightness_range) != 2:
                raise ValueError(
                    "`brightness_range should be tuple or list of two "
                    f"floats. Received: {brightness_range}")
        self.brightness_range = brightness_range
        if zca_whitening:
            if not featurewise_center:
                self.featurewise_center = True
                warnings.warn("This ImageDataGenerator specifies "
                              "`zca_whitening`, which overrides setting of "
                              "`featurewise_center`.", stacklevel=2)
            if featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn("This ImageDataGenerator specifies "
                              "`zca_whitening` which overrides setting of"
                              "`featurewise_std_normalization`.",
                              stacklevel=2)
        if featurewise_std_normalization and not featurewise_center:
            self.featurewise_center = True
            warnings.warn("This ImageDataGenerator specifies "
                          "`featurewise_std_normalization`, which overrides "
                          "setting of `featurewise_center`.", stacklevel=2)
        if samplewise_std_normalization and not samplewise_center:
            self.samplewise_center = True
            warnings.warn("This ImageDataGenerator specifies "
                          "`samplewise_std_normalization`, which overrides "
                          "setting of `samplewise_center`.", stacklevel=2)

    # -- iterators ---------------------------------------------------------
    def flow(self, x, y=None, batch_size=32, shuffle=True,
             sample_weight=None, seed=None, save_to_dir=None,
             save_prefix="", save_format="png", ignore_class_split=False,
             subset=None):
        """Returns batches of augmented data from arrays.

        Args:
            x: rank-4 image array (or a tuple `(images, misc_arrays)`).
            y: labels, or None.
            batch_size: batch size.
            shuffle: shuffle every epoch.
            sample_weight: per-sample weights.
            seed: seed for shuffling and transforms.
            save_to_dir, save_prefix, save_format: save the augmented
                images (for inspection).
            ignore_class_split: skip the class check of the split.
            subset: `"training"` or `"validation"` (with
                `validation_split`).

        Returns:
            A `NumpyArrayIterator` (a PyDataset `model.fit` accepts)
            yielding `(x, y)`, `(x, y, sample_weight)` or `x`.
        """
        return NumpyArrayIterator(
            x, y, self, batch_size=batch_size, shuffle=shuffle,
            sample_weight=sample_weight, seed=seed,
            data_format=self.data_format, save_to_dir=save_to_dir,
            save_prefix=save_prefix, save_format=save_format,
            ignore_class_split=ignore_class_split, subset=subset,
            dtype=self.dtype)

    def flow_from_directory(self, directory, target_size=(256, 256),
                            color_mode="rgb", classes=None,
                            class_mode="categorical", batch_size=32,
                            shuffle=True, seed=None, save_to_dir=None,
                            save_prefix="", save_format="png",
                            follow_links=False, subset=None,
                            interpolation="nearest",
                            keep_aspect_ratio=False):
        """Returns batches of augmented images read from class sub-folders.

        See `DirectoryIterator` for the arguments.

        Returns:
            A `DirectoryIterator` yielding `(x, y)` (or `x` when
            `class_mode=None`).
        """
        return DirectoryIterator(
            directory, self, target_size=target_size, color_mode=color_mode,
            classes=classes, class_mode=class_mode,
            data_format=self.data_format, batch_size=batch_size,
            shuffle=shuffle, seed=seed, save_to_dir=save_to_dir,
            save_prefix=save_prefix, save_format=save_format,
            follow_links=follow_links, subset=subset,
            interpolation=interpolation,
            keep_aspect_ratio=keep_aspect_ratio, dtype=self.dtype)

    def flow_from_dataframe(self, *args, **kwargs):
        """Not implemented (it needs pandas).

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError(
            "ImageDataGenerator.flow_from_dataframe is not implemented in "
            "gkeras. Load the images with `load_img`/`img_to_array` and use "
            "`flow(x, y)`, or arrange them in class folders for "
            "`flow_from_directory`.")

    # -- per-image operations ------------------------------------------------
    def standardize(self, x):
        """Applies the normalization configuration to one image (or a
        batch, in place where possible).

        Order, as Keras: `preprocessing_function`, `rescale`, samplewise
        centre/std, featurewise centre/std, ZCA.

        Args:
            x: image array (NumPy or CuPy).

        Returns:
            The normalized array.
        """
        xp = _xp(x)
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x = x * self.rescale
        if self.samplewise_center:
            x = x - xp.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x = x / (xp.std(x, keepdims=True) + 1e-6)
        if self.featurewise_center:
            if self.mean is not None:
                x = x - xp.asarray(self.mean)
            else:
                warnings.warn("This ImageDataGenerator specifies "
                              "`featurewise_center`, but it hasn't been fit "
                              "on any training data. Fit it first by calling "
                              "`.fit(numpy_data)`.", stacklevel=2)
        if self.featurewise_std_normalization:
            if self.std is not None:
                x = x / (xp.asarray(self.std) + 1e-6)
            else:
                warnings.warn("This ImageDataGenerator specifies "
                              "`featurewise_std_normalization`, but it "
                              "hasn't been fit on any training data. Fit it "
                              "first by calling `.fit(numpy_data)`.",
                              stacklevel=2)
        if self.zca_whitening:
            if self.principal_components is not None:
                n_feat = int(np.prod(x.shape[-3:]))
                flat = x.reshape(-1, n_feat)
                x = (flat @ xp.asarray(self.principal_components,
                                       dtype=flat.dtype)).reshape(x.shape)
            else:
                warnings.warn("This ImageDataGenerator specifies "
                              "`zca_whitening`, but it hasn't been fit on "
                              "any training data. Fit it first by calling "
                              "`.fit(numpy_data)`.", stacklevel=2)
        return x

    def get_random_transform(self, img_shape, seed=None):
        """Draws random transformation parameters for one image.

        Args:
            img_shape: shape of the image (3D).
            seed: optional seed (reseeds NumPy's global random state, as
                Keras does).

        Returns:
            A dict with `theta`, `tx`, `ty`, `shear`, `zx`, `zy`,
            `flip_horizontal`, `flip_vertical`, `channel_shift_intensity`,
            `brightness`.
        """
        img_row_axis = self.row_axis - 1
        img_col_axis = self.col_axis - 1
        if seed is not None:
            np.random.seed(seed)
        theta = np.random.uniform(-self.rotation_range,
                                  self.rotation_range) \
            if self.rotation_range else 0
        tx = self._draw_shift(self.height_shift_range,
                              img_shape[img_row_axis])
        ty = self._draw_shift(self.width_shift_range,
                              img_shape[img_col_axis])
        shear = np.random.uniform(-self.shear_range, self.shear_range) \
            if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = np.random.uniform(self.zoom_range[0],
                                       self.zoom_range[1], 2)
        flip_horizontal = (np.random.random() < 0.5) * self.horizontal_flip
        flip_vertical = (np.random.random() < 0.5) * self.vertical_flip
        channel_shift_intensity = None
        if self.channel_shift_range != 0:
            channel_shift_intensity = np.random.uniform(
                -self.channel_shift_range, self.channel_shift_range)
        brightness = None
        if self.brightness_range is not None:
            brightness = np.random.uniform(self.brightness_range[0],
                                           self.brightness_range[1])
        return {"theta": theta, "tx": tx, "ty": ty, "shear": shear,
                "zx": zx, "zy": zy, "flip_horizontal": flip_horizontal,
                "flip_vertical": flip_vertical,
                "channel_shift_intensity": channel_shift_intensity,
                "brightness": brightness}

    @staticmethod
    def _draw_shift(shift_range, size):
        if not np.any(shift_range):
            return 0
        if isinstance(shift_range, (int, np.integer)) or isinstance(
                shift_range, (list, tuple, np.ndarray)):
            # An int n: pixels from range(n); a list: one of its values;
            # each with a random sign (Keras's rule).
            t = np.random.choice(shift_range)
            t = t * np.random.choice([-1, 1])
        else:
            t = np.random.uniform(-shift_range, shift_range)
        if np.max(shift_range) < 1:
            t *= size
        return t

    def apply_transform(self, x, transform_parameters):
        """Applies the given transformation parameters to one image.

        Args:
            x: 3D image (NumPy or CuPy).
            transform_parameters: a dict as `get_random_transform` returns
                (missing keys mean no change).

        Returns:
            The transformed image.
        """
        p = transform_parameters
        ra, ca, cha = self.row_axis - 1, self.col_axis - 1, \
            self.channel_axis - 1
        x = apply_affine_transform(
            x, p.get("theta", 0), p.get("tx", 0), p.get("ty", 0),
            p.get("shear", 0), p.get("zx", 1), p.get("zy", 1), row_axis=ra,
            col_axis=ca, channel_axis=cha, fill_mode=self.fill_mode,
            cval=self.cval, order=self.interpolation_order)
        if p.get("channel_shift_intensity") is not None:
            x = apply_channel_shift(x, p["channel_shift_intensity"], cha)
        if p.get("flip_horizontal", False):
            x = flip_axis(x, ca)
        if p.get("flip_vertical", False):
            x = flip_axis(x, ra)
        if p.get("brightness") is not None:
            x = apply_brightness_shift(x, p["brightness"], False)
        return x

    def random_transform(self, x, seed=None):
        """Applies a random transformation to one image.

        Args:
            x: 3D image.
            seed: optional seed.

        Returns:
            The transformed image.
        """
        if getattr(x, "ndim", None) != 3:
            raise ValueError("random_transform expects a single 3D image; "
                             f"received shape {getattr(x, 'shape', None)}.")
        params = self.get_random_transform(x.shape, seed)
        return self.apply_transform(x, params)

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Computes the dataset statistics the featurewise options need
        (mean, std, ZCA principal components).

        Args:
            x: rank-4 sample data.
            augment: fit on randomly augmented copies.
            rounds: number of augmented copies per sample (with
                `augment`).
            seed: random seed.
        """
        x = np.asarray(backend.to_numpy(x), dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(
                "Input to `.fit()` should have rank 4. Got array with shape: "
                f"{x.shape}")
        if x.shape[self.channel_axis] not in (1, 3, 4):
            warnings.warn(
                "Expected input to be images (as Numpy array) following the "
                f'data format convention "{self.data_format}" (channels on '
                f"axis {self.channel_axis}), i.e. expected either 1, 3 or 4 "
                f"channels on axis {self.channel_axis}. However, it was "
                f"passed an array with shape {x.shape} "
                f"({x.shape[self.channel_axis]} channels).", stacklevel=2)
        if seed is not None:
            np.random.seed(seed)
        x = np.copy(x)
        if self.rescale:
            x *= self.rescale
        if augment:
            ax = np.zeros((rounds * x.shape[0],) + x.shape[1:],
                          dtype=self.dtype)
            for r in range(rounds):
                for i in range(x.shape[0]):
                    ax[i + r * x.shape[0]] = self.random_transform(x[i])
            x = ax
        bshape = [1, 1, 1]
        bshape[self.channel_axis - 1] = x.shape[self.channel_axis]
        axes = (0, self.row_axis, self.col_axis)
        if self.featurewise_center:
            self.mean = np.mean(x, axis=axes).reshape(bshape)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.std(x, axis=axes).reshape(bshape)
            x /= self.std + 1e-6
        if self.zca_whitening:
            n = x.shape[0]
            flat_x = x.reshape(n, -1).astype(np.float64)
            u, s, _ = np.linalg.svd(flat_x.T, full_matrices=False)
            s_inv = np.sqrt(n) / (s + self.zca_epsilon)
            self.principal_components = ((u * s_inv) @ u.T).astype(
                self.dtype)
