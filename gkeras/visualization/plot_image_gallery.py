"""`plot_image_gallery`: a grid of images (matplotlib)."""

import math

import numpy as np

from gkeras.backend.config import image_data_format
from gkeras.visualization._utils import to_host, transform_value_range


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "The `plot_image_gallery` function requires the `matplotlib` "
            "package. Please install it with `pip install matplotlib`."
        ) from None
    return plt


def plot_image_gallery(images, y_true=None, y_pred=None, label_map=None,
                       rows=None, cols=None, value_range=(0, 255), scale=2,
                       path=None, show=None, transparent=True, dpi=60,
                       legend_handles=None, data_format=None):
    """Shows (or saves) a grid of images, optionally titled with labels.

    Args:
        images: a batch of images `(batch, height, width, channels)`.
        y_true, y_pred: optional label ids per image (need `label_map`).
        label_map: dict label id -> name.
        rows, cols: grid size (default: a near-square grid).
        value_range: the images' value range, mapped to [0, 255].
        scale: inches per grid cell.
        path: save the figure there instead of showing it.
        show: show the figure (default: when `path` is None).
        transparent: transparent background when saving.
        dpi: resolution when saving.
        legend_handles: matplotlib legend handles to add.
        data_format: `"channels_last"` or `"channels_first"`.
    """
    plt = _pyplot()
    if path is not None and show:
        raise ValueError("plot_gallery() expects either `path` to be set, "
                         "or `show` to be true.")
    if (y_true is not None or y_pred is not None) and label_map is None:
        raise ValueError("If `y_true` or `y_pred` are provided, a "
                         "`label_map` must also be provided.")
    show = show if show is not None else (path is None)
    data_format = data_format or image_data_format()
    images = to_host(images)
    if images.ndim != 4:
        raise ValueError("`plot_images_gallery()` requires you to batch "
                         "your `np.array` samples together.")
    batch_size = images.shape[0]
    rows = rows or int(math.ceil(math.sqrt(batch_size)))
    cols = cols or int(math.ceil(batch_size // rows))
    images = images[:min(rows * cols, batch_size)]
    if data_format == "channels_first":
        images = np.transpose(images, (0, 2, 3, 1))
    fig, axes = plt.subplots(nrows=rows, ncols=cols,
                             figsize=(cols * scale, rows * scale),
                             frameon=False, layout="tight", squeeze=True,
                             sharex="row", sharey="col")
    fig.subplots_adjust(wspace=0, hspace=0)
    if isinstance(axes, np.ndarray) and axes.ndim == 1:
        axes = np.expand_dims(axes, 0 if rows == 1 else -1)
    if legend_handles is not None:
        fig.legend(handles=legend_handles, loc="lower center")
    images = transform_value_range(images, value_range, (0, 255))
    y_true = to_host(y_true) if y_true is not None else None
    y_pred = to_host(y_pred) if y_pred is not None else None
    for row in range(rows):
        for col in range(cols):
            index = row * cols + col
            ax = axes[row, col] if isinstance(axes, np.ndarray) else axes
            ax.imshow(np.asarray(images[index]).astype("uint8"))
            ax.margins(x=0, y=0)
            ax.axis("off")
            title = []
            if y_true is not None and index < len(y_true):
                title.append(
                    f"Label: {label_map.get(y_true[index], 'Unknown')}")
            if y_pred is not None and index < len(y_pred):
                title.append(
                    f"Pred: {label_map.get(y_pred[index], 'Unknown')}")
            if title:
                ax.set_title("  ".join(title), fontsize=8)
    if path is not None:
        plt.savefig(fname=path, pad_inches=0, bbox_inches="tight",
                    transparent=transparent, dpi=dpi)
        plt.close()
    elif show:
        plt.show()
        plt.close()
