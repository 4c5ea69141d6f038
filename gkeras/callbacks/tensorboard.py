"""`TensorBoard`: writes training logs that TensorBoard displays."""

import os
import time

import numpy as np

from gkeras.callbacks import _tb_events as tb
from gkeras.callbacks.callback import Callback


class TensorBoard(Callback):
    """Writes event files for TensorBoard: metrics, weight histograms and
    images, and the model's graph.

    The files are written directly (the TFRecord event format, standard
    library only): no TensorFlow is needed to write them, and
    `tensorboard --logdir <log_dir>` reads them. Training metrics go to
    `log_dir/train`, validation metrics to `log_dir/validation`, with
    Keras's tags (`epoch_loss`, `epoch_accuracy`, `batch_loss`,
    `epoch_learning_rate`, ...).

    Args:
        log_dir: the folder of the logs.
        histogram_freq: write histograms of every weight each that many
            epochs (0: never).
        write_graph: write the model's architecture (its JSON, shown by
            TensorBoard's graph tab, and its `summary()` as text).
        write_images: also write each weight as a grayscale image (with the
            histograms).
        write_steps_per_second: log training steps per second.
        update_freq: `"epoch"`, `"batch"` or an integer N: also write the
            batch metrics every N batches.
        profile_batch: must be 0 (profiling is not supported).
        embeddings_freq: must be 0 (the projector is not supported).
        embeddings_metadata: must be None.

    Example:

    ```python
    tensorboard_callback = gkeras.callbacks.TensorBoard(
        log_dir="./logs", histogram_freq=1, write_graph=True,
        write_images=True)
    model.fit(x, y, epochs=5, callbacks=[tensorboard_callback])
    ```
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True,
                 write_images=False, write_steps_per_second=False,
                 update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):
        super().__init__()
        if profile_batch not in (0, None, (0, 0), [0, 0], "0", "0,0"):
            raise NotImplementedError(
                f"TensorBoard(profile_batch={profile_batch!r}): profiling is "
                "not supported by gkeras; pass profile_batch=0.")
        if embeddings_freq or embeddings_metadata is not None:
            raise NotImplementedError(
                "TensorBoard: `embeddings_freq`/`embeddings_metadata` (the "
                "embedding projector) are not supported by gkeras; pass "
                "embeddings_freq=0.")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and not (isinstance(update_freq, int)
                                           and update_freq > 0):
            raise ValueError(
                "TensorBoard: `update_freq` must be 'epoch', 'batch' or a "
                f"positive integer. Received: update_freq={update_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = update_freq
        self.profile_batch = profile_batch
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._writers = {}
        self._global_train_batch = 0
        self._epoch_start = None
        self._epoch_steps = 0

    def _writer(self, which):
        w = self._writers.get(which)
        if w is None:
            w = tb.EventFileWriter(self._train_dir if which == "train"
                                   else self._val_dir)
            self._writers[which] = w
        return w

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        if self.write_graph:
            self._write_graph()

    def _write_graph(self):
        values = []
        try:
            values.append(tb.text_value("keras", self.model.to_json(),
                                        plugin="graph_keras_model",
                                        content=b"1"))
        except (TypeError, ValueError, NotImplementedError):
            pass  # a subclassed model without get_config: no JSON graph
        lines = []
        try:
            self.model.summary(print_fn=lines.append)
        except (TypeError, ValueError, AttributeError):
            lines = []
        if lines:
            text = "\n".join("    " + line for line in lines)
            values.append(tb.text_value("model_summary", text))
        if values:
            w = self._writer("train")
            w.add_summary(0, *values)
            w.flush()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.time()
        self._epoch_steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self._global_train_batch += 1
        self._epoch_steps += 1
        if self.update_freq == "epoch":
            return
        if self._global_train_batch % self.update_freq == 0 and logs:
            values = [tb.scalar_value("batch_" + k, float(v))
                      for k, v in logs.items() if _is_number(v)]
            if values:
                self._writer("train").add_summary(self._global_train_batch,
                                                  *values)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        if "learning_rate" not in train:
            lr = _learning_rate(self.model)
            if lr is not None:
                train["learning_rate"] = lr
        if self.write_steps_per_second and self._epoch_start is not None:
            elapsed = max(time.time() - self._epoch_start, 1e-9)
            train["steps_per_second"] = self._epoch_steps / elapsed
        values = [tb.scalar_value("epoch_" + k, float(v))
                  for k, v in train.items() if _is_number(v)]
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            values.extend(self._weight_values())
        w = self._writer("train")
        if values:
            w.add_summary(epoch, *values)
        w.flush()
        if val:
            vw = self._writer("validation")
            vw.add_summary(epoch, *[tb.scalar_value("epoch_" + k, float(v))
                                    for k, v in val.items()
                                    if _is_number(v)])
            vw.flush()

    def _weight_values(self):
        out = []
        for layer in self.model.layers:
            for weight in layer.weights:
                name = getattr(weight, "path", None) or weight.name
                name = name.replace(":", "_")
                value = weight.numpy()
                out.append(tb.histogram_value(name + "/histogram", value))
                if self.write_images:
                    out.append(tb.image_value(name + "/image",
                                              _as_image(value)))
        return out

    def on_train_end(self, logs=None):
        for w in self._writers.values():
            w.close()
        self._writers = {}


def _as_image(value):
    """A weight as a 2-D array: vectors as one row, kernels with the
    output units as columns."""
    v = np.asarray(value)
    if v.ndim == 0:
        return v.reshape(1, 1)
    if v.ndim == 1:
        return v.reshape(1, -1)
    return v.reshape(-1, v.shape[-1])


def _is_number(v):
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


def _learning_rate(model):
    opt = getattr(model, "optimizer", None)
    if opt is None:
        return None
    try:
        lr = opt.learning_rate
        return float(np.asarray(lr.numpy() if hasattr(lr, "numpy") else lr))
    except (TypeError, ValueError, AttributeError):
        return None
