"""The training loop: `compile`, `fit`, `evaluate`, `predict` and the
`*_on_batch` methods, with Keras's semantics and logs."""

import inspect
import warnings

import numpy as np

from gkeras import backend
from gkeras.backend import device_checks
from gkeras.models import data_adapter
from gkeras.models.compile_utils import CompileLoss, CompileMetrics
from gkeras.models.inference_plan import NOT_APPLICABLE, call_model
from gkeras.ops.engine import GradientTape, Tensor, backward, no_grad
from gkeras.ops.symbolic import flatten, map_structure
from gkeras.backend import global_settings
from gkeras.backend.traceback_filter import filter_traceback


class _LazyLogs(dict):
    """Batch logs that read metric values back (a device sync on the GPU)
    only if some callback looks at them."""

    def __init__(self, compute):
        super().__init__()
        self._compute = compute
        self._done = False

    def _fill(self):
        if not self._done:
            self._done = True
            dict.update(self, self._compute())

    def __getitem__(self, k):
        self._fill()
        return dict.__getitem__(self, k)

    def get(self, k, default=None):
        self._fill()
        return dict.get(self, k, default)

    def __iter__(self):
        self._fill()
        return dict.__iter__(self)

    def items(self):
        self._fill()
        return dict.items(self)

    def keys(self):
        self._fill()
        return dict.keys(self)

    def values(self):
        self._fill()
        return dict.values(self)

    def __len__(self):
        self._fill()
        return dict.__len__(self)

    def __contains__(self, k):
        self._fill()
        return dict.__contains__(self, k)

    def copy(self):
        self._fill()
        return dict(self)

    def __repr__(self):
        self._fill()
        return dict.__repr__(self)


def _pythonify(logs):
    out = {}
    logs = {k: v.data if isinstance(v, Tensor) else v for k, v in
            logs.items()}
    # Device scalars (metric results on the GPU) are read back together:
    # one transfer per dtype, not one sync per metric.
    groups = {}
    for k, v in logs.items():
        if backend.is_cupy_array(v) and v.ndim == 0:
            groups.setdefault(v.dtype, []).append(k)
    for keys in groups.values():
        xp = backend.get_array_module(logs[keys[0]])
        host = backend.to_numpy(xp.stack([logs[k] for k in keys]))
        for k, h in zip(keys, host.tolist()):
            logs[k] = h
    for k in sorted(logs):
        v = logs[k]
        try:
            v = float(v)
        except (TypeError, ValueError):
            pass
        out[k] = v
    return out


class Trainer:
    """Mixin giving `Model` its training API."""

    def __init__(self):
        self.compiled = False
        self.optimizer = None
        self.stop_training = False
        self.history = None
        self._compile_loss = None
        self._compile_metrics = None
        self._loss_tracker = None
        self._compile_config = None
        self._run_eagerly = False
        self._steps_per_execution = 1

    # -- compile ----------------------------------------------------------------

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None,
                metrics=None, weighted_metrics=None, run_eagerly=False,
                steps_per_execution=1, jit_compile="auto",
                auto_scale_loss=True, **kwargs):
        """Configures the model for training.

        Args:
            optimizer: name (`"adam"`) or optimizer instance.
            loss: loss name, function or `Loss`; a list or dict (keyed by
                output name) for multi-output models.
            loss_weights: list or dict of scalars weighting each output's
                loss.
            metrics: list of metrics (names like `"accuracy"`, functions or
                `Metric` objects); a list of lists or a dict per output.
            weighted_metrics: metrics that use `sample_weight`.
            run_eagerly, steps_per_execution, jit_compile: accepted for
                Keras compatibility (gkeras always runs eagerly, one step
                per batch).
            auto_scale_loss: under a `"mixed_float16"` model policy, wrap
                the optimizer in a `LossScaleOptimizer` (as Keras).
        """
        from gkeras import metrics as metrics_module
        from gkeras import optimizers
        for legacy in ("sample_weight_mode", "target_tensors"):
            kwargs.pop(legacy, None)
        if "experimental_run_tf_function" in kwargs:
            kwargs.pop("experimental_run_tf_function")
        if kwargs:
            raise TypeError(f"compile() got unexpected keyword arguments "
                            f"{sorted(kwargs)}.")
        self.optimizer = optimizers.get(optimizer)
        self._gk_auto_wrapped = False
        if auto_scale_loss and self.optimizer is not None and getattr(
                self, "dtype_policy", None) is not None and \
                self.dtype_policy.name == "mixed_float16" and \
                not isinstance(self.optimizer,
                               optimizers.LossScaleOptimizer):
            self.optimizer = optimizers.LossScaleOptimizer(
                self.optimizer, name="loss_scale_optimizer")
            self._gk_auto_wrapped = True
        output_names = self._output_names_for_compile()
        self._compile_loss = CompileLoss(loss, loss_weights, output_names) \
            if loss is not None else None
        self._compile_metrics = CompileMetrics(
            metrics, weighted_metrics, output_names) if (
                metrics or weighted_metrics) else None
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._run_eagerly = run_eagerly
        self._steps_per_execution = steps_per_execution
        self._compile_config = {
            "optimizer": optimizer, "loss": loss,
            "loss_weights": loss_weights, "metrics": metrics,
            "weighted_metrics": weighted_metrics,
            "run_eagerly": run_eagerly,
            "steps_per_execution": steps_per_execution,
            "jit_compile": jit_compile}
        self.compiled = True
        self.stop_training = False

    def _output_names_for_compile(self):
        names = getattr(self, "output_names", None)
        if callable(names):
            names = None
        return list(names) if names else None

    @property
    def metrics(self):
        """The model's metric objects: the loss tracker, per-output loss
        trackers, then the compiled metrics."""
        out = []
        if self._loss_tracker is not None:
            out.append(self._loss_tracker)
        if self._compile_loss is not None and self._compile_loss.built:
            out.extend(m for m in self._compile_loss.metrics if m is not None)
        if self._compile_metrics is not None:
            if self._compile_metrics.built:
                out.extend(self._compile_metrics.metrics)
            else:
                from gkeras.models.compile_utils import UnbuiltCompileMetrics
                out.append(UnbuiltCompileMetrics(self._compile_metrics))
        out.extend(m for m in self._tracked_metrics()
                   if all(m is not o for o in out))
        return out

    def _tracked_metrics(self):
        """Metrics held as attributes of the model and its layers (Keras's
        `_metrics` and sub-layer metrics), cached until the layer
        structure changes. Nested models that are themselves trainers
        (a compiled teacher) keep theirs to themselves, as in Keras."""
        layer_mod = _layer_module()
        version = layer_mod.STRUCTURE_VERSION[0]
        cached = self.__dict__.get("_gk_tracked_metrics")
        if cached is not None and cached[0] == version:
            return cached[1]
        found = []
        for layer in self._flatten_layers(include_self=True):
            if layer is not self and isinstance(layer, Trainer):
                continue
            found.extend(m for m in layer_mod.own_metrics(layer)
                         if m is not self._loss_tracker
                         and all(m is not f for f in found))
        self.__dict__["_gk_tracked_metrics"] = (version, found)
        return found

    @property
    def metrics_names(self):
        """Names of `model.metrics` (`["loss", "accuracy"]`)."""
        return [m.name for m in self.metrics]

    @property
    def run_eagerly(self):
        return True

    @run_eagerly.setter
    def run_eagerly(self, value):
        self._run_eagerly = value

    def reset_metrics(self):
        """Resets the state of every metric (loss trackers included)."""
        for m in self.metrics:
            m.reset_state()
        dstate = self.__dict__.get("_gk_dist_state")  # distribution
        if dstate is not None:
            dstate.metrics_global = None

    def _assert_compiled(self, method):
        if not self.compiled:
            raise ValueError(
                f"You must call `compile()` before using the model "
                f"(`{method}` was called on model {self.name!r}).")

    # -- steps --------------------------------------------------------------------

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     training=True):
        """The total loss: compiled loss plus the model's added losses
        (weight and activity regularization)."""
        total = None
        if self._compile_loss is not None and y is not None:
            total = self._compile_loss(y, y_pred, sample_weight)
        for extra in self._regularization_losses():
            total = extra if total is None else total + extra
        if total is None:
            raise ValueError(
                "No loss to compute. Provide a `loss` argument in "
                "`compile()` (and targets `y` to fit).")
        return total

    def _compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                      training=True):
        """Calls `compute_loss`, passing `training` only to overrides that
        accept it (Keras-3.2-style overrides lack it), as Keras does."""
        accepts = self.__dict__.get("_gk_loss_takes_training")
        if accepts is None:
            try:
                params = inspect.signature(self.compute_loss).parameters
            except (TypeError, ValueError):
                params = {}
            accepts = "training" in params or any(
                p.kind == p.VAR_KEYWORD for p in params.values())
            self.__dict__["_gk_loss_takes_training"] = accepts
        if accepts:
            return self.compute_loss(x, y, y_pred, sample_weight,
                                     training=training)
        return self.compute_loss(x, y, y_pred, sample_weight)

    def _regularization_losses(self):
        from gkeras.layers.layer import _ANY_LOSSES_ADDED
        regs = self.__dict__.get("_reg_cache")
        if regs is None:
            # Collected with the trainable variables (see train_step): walking the
            # layer tree every step would cost more than the small models'
            # math.
            layers = self._flatten_layers(include_self=True)
            pairs = [v for l in layers for v in
                     l._trainable_variables + l._non_trainable_variables
                     if v.regularizer is not None]
            regs = (None, layers, pairs)
            self.__dict__["_reg_cache"] = regs
        out = [v.regularizer(v) for v in regs[2]]
        if _ANY_LOSSES_ADDED[0]:
            for layer in regs[1]:
                out.extend(layer._losses)
        return out

    def train_step(self, data):
        """One optimization step on a batch; returns the logs.

        Override it for custom training logic (as in Keras).
        """
        dist = self.__dict__.get("_dist")
        if dist is not None:
            # Data-parallel: shard step with one fused all-reduce
            # (gkeras.distribution.DataParallel.train_step).
            return dist.train_step(self, data)
        x, y, sample_weight = data_adapter.unpack_x_y_sample_weight(data)
        with GradientTape():
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
            # Loss scaling (mixed_float16, `loss_scale_factor`); the
            # optimizer unscales the gradients.
            scaled = self.optimizer.scale_loss(loss)
        tvars, _ = self._current_step_vars()
        grads = backward(scaled, tvars)
        if all(g is None for g in grads) and tvars:
            raise ValueError(
                "No gradients were computed for any variable: the loss does "
                "not depend on the model's trainable weights.")
        self.optimizer.apply(grads, tvars)
        self._update_metrics(x, y, y_pred, sample_weight, loss)
        return self._metrics_result

    def _current_step_vars(self):
        """The trainable variables a train step updates, and whether they
        were just re-collected.

        Called after the forward pass, so that lazily built layers
        (deferred Sequential, subclassed models) have their weights; the
        layer tree is walked again only when weights, `trainable` flags or
        sub-layers changed somewhere (the layer structure version moved).
        """
        version = _layer_module().STRUCTURE_VERSION[0]
        if self.__dict__.get("_vars_version") == version:
            return self._step_vars, False
        # Through __dict__: assigning a list attribute on a layer bumps the
        # structure version, which would make every step walk again.
        self.__dict__["_step_vars"] = self.trainable_weights
        self.__dict__["_vars_version"] = version
        self.__dict__["_reg_cache"] = None
        return self._step_vars, True

    def test_step(self, data):
        """One evaluation step on a batch; returns the logs."""
        x, y, sample_weight = data_adapter.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self._compute_loss(x, y, y_pred, sample_weight,
                                  training=False)
        self._update_metrics(x, y, y_pred, sample_weight, loss)
        return self._metrics_result

    def predict_step(self, data):
        """Forward pass on a batch of inputs (no graph is recorded)."""
        x, _, _ = data_adapter.unpack_x_y_sample_weight(data)
        out = call_model(self, x, False)
        return self(x, training=False) if out is NOT_APPLICABLE else out

    def _update_metrics(self, x, y, y_pred, sample_weight, loss):
        n = _batch_size(x)
        self._loss_tracker.update_state(loss, sample_weight=n)
        if type(self).compute_metrics is not Trainer.compute_metrics:
            # A user override updates the metrics (its own ones, which are
            # tracked attributes and so logged, and super()'s).
            self.compute_metrics(x, y, y_pred, sample_weight)
            return
        if self._compile_metrics is not None and y is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics and returns all metric results.

        The built-in steps call it after the loss tracker is updated;
        override it for custom metric logic, calling `super()` for the
        compiled metrics. Custom `train_step`s may return its result.

        Args:
            x: input data (unused by the default implementation).
            y: target data.
            y_pred: the model's predictions.
            sample_weight: sample weights, or None.

        Returns:
            A dict of the results of `self.metrics`, e.g.
            `{"loss": 0.2, "accuracy": 0.7}`.
        """
        del x
        if self._compile_metrics is not None and y is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def _metrics_result(self):
        dist = self.__dict__.get("_dist")
        if dist is not None:
            # Global logs: results of the metric states summed over ranks.
            return dist.metrics_result(self, self._local_metrics_result)
        return self._local_metrics_result()

    def _local_metrics_result(self):
        logs = {}
        for m in self.metrics:
            r = m.result()
            if isinstance(r, dict):
                logs.update(r)
            else:
                logs[m.name] = r
        return _pythonify(logs)

    def _metrics_result_or_logs(self, logs):
        """The epoch's logs, as Keras picks them: the metrics' results,
        unless the last step returned logs with other keys (a custom
        `train_step`/`test_step` returning its own dict); then those."""
        metric_logs = self._metrics_result()
        if logs is None or callable(logs) or not isinstance(logs, dict):
            return metric_logs
        def flat(d):
            # Keras flattens nested logs (a custom step returning
            # {m.name: m.result()} with the compiled metrics' dict).
            out = {}
            for k, v in d.items():
                out.update(flat(v) if isinstance(v, dict) else {k: v})
            return out
        logs = _pythonify(flat(logs))
        if set(logs) == set(metric_logs):
            return metric_logs
        return logs

    def get_metrics_result(self):
        """The current values of all metrics, as Python floats."""
        return self._metrics_result()

    # -- fit ------------------------------------------------------------------

    @filter_traceback
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto",
            callbacks=None, validation_split=0.0, validation_data=None,
            shuffle=True, class_weight=None, sample_weight=None,
            initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, **kwargs):
        """Trains the model for a fixed number of epochs.

        Args:
            x: inputs (arrays, list/dict of arrays, generator, PyDataset).
            y: targets (with array `x` only).
            batch_size: samples per step (default 32).
            epochs: epochs to train (up to `epochs`, from `initial_epoch`).
            verbose: `"auto"`/1 (progress bar), 2 (one line per epoch), 0.
            callbacks: list of `Callback`s.
            validation_split: fraction of the (array) data held out for
                validation (the last samples, before shuffling).
            validation_data: `(x_val, y_val)` or `(x_val, y_val, sw)` or a
                dataset.
            shuffle: shuffle the training arrays each epoch (`"batch"`
                shuffles batch order only).
            class_weight: dict `{class: weight}` scaling each sample's loss.
            sample_weight: per-sample weights (arrays).
            initial_epoch: epoch to start from (for resuming).
            steps_per_epoch: batches per epoch (needed for infinite
                generators).
            validation_steps: batches per validation run.
            validation_batch_size: batch size for validation.
            validation_freq: validate every `validation_freq` epochs.

        Returns:
            A `History` object; `history.history` maps metric names to
            per-epoch values.
        """
        from gkeras.callbacks import CallbackList
        for legacy in ("workers", "use_multiprocessing", "max_queue_size"):
            kwargs.pop(legacy, None)
        if kwargs:
            raise TypeError(f"fit() got unexpected keyword arguments "
                            f"{sorted(kwargs)}.")
        self._assert_compiled("fit")
        cap = global_settings.max_epochs()
        if cap and cap < epochs:  # a debugging cap, as in Keras
            warnings.warn(f"Limiting epochs to {cap}", stacklevel=2)
            epochs = cap
        if validation_split and validation_data is None:
            if not data_adapter.is_array_data(x):
                raise ValueError(
                    "`validation_split` is only supported for arrays, not "
                    f"for {type(x).__name__}. Pass `validation_data` "
                    "instead.")
            if not 0 < validation_split < 1:
                raise ValueError("`validation_split` must be in (0, 1). "
                                 f"Received: {validation_split}")
            (x, y, sample_weight), validation_data = \
                data_adapter.train_validation_split(
                    (x, y, sample_weight), validation_split)
            if validation_data[2] is None:
                validation_data = validation_data[:2]
        adapter = data_adapter.get_adapter(
            x, y, sample_weight, batch_size=batch_size, shuffle=shuffle,
            steps=_capped_steps(steps_per_epoch), class_weight=class_weight)
        self._check_labels_once(y)
        val_adapter = None
        if validation_data is not None:
            vx, vy, vsw = data_adapter.unpack_x_y_sample_weight(
                validation_data) if isinstance(validation_data,
                                               (tuple, list)) else (
                validation_data, None, None)
            val_adapter = data_adapter.get_adapter(
                vx, vy, vsw, batch_size=validation_batch_size or batch_size,
                shuffle=False, steps=_capped_steps(validation_steps))
        if verbose == "auto":
            verbose = 1
        # -- distribution: shards, chief-only callbacks, agreed seed.
        dist = _use_distribution(self, "fit")
        if dist is not None:
            callbacks = dist.filter_callbacks(callbacks)
            _dist_state(self).synced = False
        callbacks = CallbackList(callbacks, add_history=True,
                                 add_progbar=verbose != 0 and (
                                     dist is None or dist.rank == 0),
                                 model=self, verbose=verbose, epochs=epochs,
                                 steps=adapter.steps)
        fit_seed = _fit_seed()
        if dist is not None:
            fit_seed = dist.bcast_object(fit_seed)
        self.stop_training = False
        self._initial_epoch = None
        self._initial_step = 0
        self._fit_seed = fit_seed
        self._prepare_step(adapter)
        callbacks.on_train_begin()
        # BackupAndRestore sets `_initial_epoch`, `_initial_step` (batches
        # of that epoch already trained on) and `_fit_seed` when it resumes.
        if self._initial_epoch is not None:
            initial_epoch = self._initial_epoch
        fit_seed = self._fit_seed
        logs = {}
        epoch = initial_epoch
        for epoch in range(initial_epoch, epochs):
            # One generator per epoch, seeded by (fit seed, epoch), so that a
            # run resumed at epoch k shuffles as the uninterrupted run did.
            rng = np.random.default_rng([fit_seed, epoch])
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            step = -1
            result = None
            skip = self._initial_step if epoch == initial_epoch else 0
            for step, batch in enumerate(device_checks.deferring(
                    adapter.epoch(rng))):
                if step < skip:
                    continue  # trained on before the run was interrupted
                callbacks.on_train_batch_begin(step)
                if dist is not None:
                    batch = dist.shard_batch(batch)
                result = self.train_step(batch)
                callbacks.on_train_batch_end(step, _LazyLogs(result)
                                             if callable(result) else result)
                if dist is not None:
                    # Every rank stops together, even if a callback on one
                    # rank alone asked for it.
                    self.stop_training = dist.any(self.stop_training)
                if self.stop_training:
                    break
            device_checks.flush()  # one read of the epoch's input checks
            if step < 0:
                raise ValueError(
                    "The training data produced no batches. Check that `x` "
                    "is not empty and that generators yield data.")
            if adapter.steps is None:
                adapter.steps = step + 1
                for cb in callbacks:
                    if cb.params is not None:
                        cb.params["steps"] = step + 1
            epoch_logs = self._metrics_result_or_logs(result)
            if val_adapter is not None and _should_validate(
                    epoch, validation_freq):
                # Keras validates with the fit's callback list, so user
                # callbacks see on_test_* (the progress bar ignores them).
                val_logs = self._run_evaluation(val_adapter,
                                                callbacks=callbacks)
                epoch_logs.update({"val_" + k: v for k, v in
                                   val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            logs = epoch_logs
            if dist is not None:
                self.stop_training = dist.any(self.stop_training)
            if self.stop_training:
                break
        # As Keras: with `use_ema=True` the model ends with its averages.
        finalize = getattr(self.optimizer, "finalize_variable_values", None)
        if finalize is not None and getattr(self.optimizer, "built", False):
            finalize(self.trainable_weights)
        callbacks.on_train_end(logs)
        return self.history

    def _prepare_step(self, adapter=None):
        """Nothing to reset per call: train_step re-collects the trainable
        variables whenever the layer structure version has moved."""

    def _check_labels_once(self, y):
        """Sparse labels out of range, checked once per `fit` on the host
        data before anything moves to the device, so that the GPU raises
        the CPU's error at once and no training step syncs for it (the
        loss keeps a deferred device check for other inputs)."""
        if type(y) is not np.ndarray or y.dtype.kind not in "iuf" or \
                not y.size or self._compile_loss is None:
            return
        from gkeras import losses
        loss = self._compile_loss.loss
        sparse = loss in ("sparse_categorical_crossentropy",
                          losses.sparse_categorical_crossentropy) or (
            isinstance(loss, losses.SparseCategoricalCrossentropy)
            and loss.ignore_class is None)
        outputs = getattr(self, "outputs", None)
        if not sparse or not outputs or len(outputs) != 1:
            return
        n = outputs[0].shape[-1]
        if n is not None:
            from gkeras.ops.nn import check_label_range
            check_label_range(int(y.max()), int(y.min()), int(n))

    def _run_evaluation(self, adapter, callbacks):
        self.reset_metrics()
        rng = np.random.default_rng(0)
        if callbacks is not None:
            callbacks.on_test_begin()
        dist = self.__dict__.get("_dist")
        # The progress bar ignores test batches inside fit
        # (`_called_in_fit`): it alone does not need per-batch global logs.
        batch_logs = dist is not None and dist.any(
            callbacks is not None and any(
                not getattr(getattr(fn, "__self__", None), "_called_in_fit",
                            False)
                for fn in callbacks._callers("on_test_batch_end")))
        step = -1
        result = None
        with no_grad():
            for step, batch in enumerate(device_checks.deferring(
                    adapter.epoch(rng))):
                if callbacks is not None:
                    callbacks.on_test_batch_begin(step)
                if dist is None:
                    result = self.test_step(batch)
                else:
                    # This rank's shard; metric states summed over ranks
                    # per batch only when some rank shows batch logs.
                    batch = dist.shard_batch(batch)
                    result = self.test_step(batch) if dist.update_metrics \
                        else self._metrics_result
                    if batch_logs:
                        dist.reduce_metrics(self)
                if callbacks is not None:
                    callbacks.on_test_batch_end(
                        step, _LazyLogs(result) if callable(result)
                        else result)
        device_checks.flush()
        if step < 0:
            raise ValueError("The evaluation data produced no batches.")
        if dist is not None:
            dist.reduce_metrics(self)
        logs = self._metrics_result_or_logs(result)
        if callbacks is not None:
            callbacks.on_test_end(logs)
        return logs

    # -- evaluate / predict -------------------------------------------------------

    @filter_traceback
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto",
                 sample_weight=None, steps=None, callbacks=None,
                 return_dict=False, **kwargs):
        """Returns the loss and metric values of the model on data.

        Args:
            x, y, sample_weight: as in `fit`.
            batch_size: samples per batch (default 32).
            verbose: 0, 1 or `"auto"`.
            steps: batches to evaluate (default: all).
            callbacks: list of callbacks.
            return_dict: return `{name: value}` instead of a list.

        Returns:
            A scalar loss (no metrics), a list `[loss, *metrics]`, or a
            dict.
        """
        from gkeras.callbacks import CallbackList
        for legacy in ("workers", "use_multiprocessing", "max_queue_size"):
            kwargs.pop(legacy, None)
        if kwargs:
            raise TypeError(f"evaluate() got unexpected keyword arguments "
                            f"{sorted(kwargs)}.")
        self._assert_compiled("evaluate")
        adapter = data_adapter.get_adapter(x, y, sample_weight,
                                           batch_size=batch_size,
                                           steps=_capped_steps(steps))
        if verbose == "auto":
            verbose = 1
        dist = _use_distribution(self, "evaluate")
        if dist is not None:
            callbacks = dist.filter_callbacks(callbacks)
            dist.ensure_synced(self)
        cbs = CallbackList(callbacks, add_progbar=verbose != 0 and (
                               dist is None or dist.rank == 0), model=self,
                           verbose=verbose, epochs=1, steps=adapter.steps)
        logs = self._run_evaluation(adapter, cbs)
        if return_dict:
            return logs
        return self._flatten_metrics_in_order(logs)

    def _flatten_metrics_in_order(self, logs):
        names = [m.name for m in self.metrics]
        results = [logs[n] for n in names if n in logs]
        results += [logs[k] for k in sorted(logs) if k not in names]
        return results[0] if len(results) == 1 else results

    @filter_traceback
    def predict(self, x, batch_size=None, verbose="auto", steps=None,
                callbacks=None, **kwargs):
        """Generates output predictions for the input samples.

        Args:
            x: inputs (arrays, list/dict of arrays, generator, PyDataset).
            batch_size: samples per batch (default 32).
            verbose: 0, 1 or `"auto"`.
            steps: batches to predict (default: all).
            callbacks: list of callbacks.

        Returns:
            NumPy array(s) of predictions, structured like the outputs.
        """
        from gkeras.callbacks import CallbackList
        for legacy in ("workers", "use_multiprocessing", "max_queue_size"):
            kwargs.pop(legacy, None)
        if kwargs:
            raise TypeError(f"predict() got unexpected keyword arguments "
                            f"{sorted(kwargs)}.")
        if isinstance(x, tuple) and len(x) in (2, 3) and \
                data_adapter.is_array_data(x[0]) and not isinstance(
                    getattr(self, "_inputs_struct", None), tuple):
            pass
        adapter = data_adapter.get_adapter(x, batch_size=batch_size,
                                           steps=_capped_steps(steps))
        if verbose == "auto":
            verbose = 1
        dist = _use_distribution(self, "predict")
        if dist is not None:
            callbacks = dist.filter_callbacks(callbacks)
            dist.ensure_synced(self)
        cbs = CallbackList(callbacks, add_progbar=verbose != 0 and (
                               dist is None or dist.rank == 0), model=self,
                           verbose=verbose, epochs=1, steps=adapter.steps)
        cbs.on_predict_begin()
        outputs = []
        rng = np.random.default_rng(0)
        with no_grad():
            for step, batch in enumerate(device_checks.deferring(
                    adapter.epoch(rng))):
                cbs.on_predict_batch_begin(step)
                if dist is not None:
                    batch = dist.shard_batch(batch)
                out = self.predict_step(batch)
                outputs.append(map_structure(_host, out) if dist is None
                               or dist.update_metrics else None)
                cbs.on_predict_batch_end(step, {"outputs": out})
        device_checks.flush()
        cbs.on_predict_end()
        if dist is not None:
            # Every rank gets the whole prediction, in global order.
            outputs = dist.gather_predictions(outputs)
        if not outputs:
            raise ValueError("predict(): the input produced no batches.")
        return _concat_outputs(outputs)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """Runs one gradient update on a single batch.

        Returns:
            The loss (and metrics) after the update, as `evaluate` does.
        """
        self._assert_compiled("train_on_batch")
        adapter = data_adapter.get_adapter(
            x, y, sample_weight, batch_size=_batch_size(x) or 1,
            class_weight=class_weight)
        # Not shuffled, so no generator (making one costs ~14 us a call).
        batch = next(adapter.epoch(None))
        self._prepare_step()
        dist = _use_distribution(self, "train_on_batch")
        if dist is not None:
            batch = dist.shard_batch(batch)
        result = self.train_step(batch)
        logs = result() if callable(result) else result
        if return_dict:
            return logs
        return self._flatten_metrics_in_order(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Evaluates the model on a single batch."""
        self._assert_compiled("test_on_batch")
        adapter = data_adapter.get_adapter(x, y, sample_weight,
                                           batch_size=_batch_size(x) or 1)
        batch = next(adapter.epoch(None))  # not shuffled
        self.reset_metrics()
        with no_grad():
            result = self.test_step(batch)
        logs = result() if callable(result) else result
        if return_dict:
            return logs
        return self._flatten_metrics_in_order(logs)

    def predict_on_batch(self, x):
        """Returns predictions for a single batch (NumPy)."""
        with no_grad():
            out = call_model(self, x, False)
            if out is NOT_APPLICABLE:
                out = self(x, training=False)
        return map_structure(_host, out)

    # -- Keras-2 aliases ---------------------------------------------------------

    def fit_generator(self, generator, *args, **kwargs):
        """Keras-2 alias of `fit` with a generator."""
        warnings.warn("`fit_generator` is deprecated; use `fit`.",
                      UserWarning, stacklevel=2)
        return self.fit(generator, *args, **kwargs)

    def evaluate_generator(self, generator, *args, **kwargs):
        """Keras-2 alias of `evaluate` with a generator."""
        return self.evaluate(generator, *args, **kwargs)

    def predict_generator(self, generator, *args, **kwargs):
        """Keras-2 alias of `predict` with a generator."""
        return self.predict(generator, *args, **kwargs)

    def get_compile_config(self):
        """The arguments given to `compile`, serialized."""
        if not self.compiled:
            return None
        from gkeras.saving.serialization import serialize_keras_object
        cfg = dict(self._compile_config)
        # Keras stores the optimizer given to compile, not the
        # LossScaleOptimizer compile wrapped it in.
        cfg["optimizer"] = serialize_keras_object(
            self.optimizer.inner_optimizer if self.__dict__.get(
                "_gk_auto_wrapped") else self.optimizer)
        for k in ("loss", "metrics", "weighted_metrics"):
            cfg[k] = _serialize_spec(cfg[k])
        return cfg


def _serialize_spec(spec):
    from gkeras.saving.serialization import serialize_keras_object
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, (list, tuple)):
        return [_serialize_spec(s) for s in spec]
    if isinstance(spec, dict):
        return {k: _serialize_spec(v) for k, v in spec.items()}
    return serialize_keras_object(spec)


def _host(t):
    if isinstance(t, Tensor):
        return backend.to_numpy(t.data)
    if t is None:
        return None
    return backend.to_numpy(t)


def _concat_outputs(outputs):
    first = outputs[0]
    if isinstance(first, dict):
        return {k: np.concatenate([o[k] for o in outputs]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(np.concatenate([o[i] for o in outputs])
                           for i in range(len(first)))
    return np.concatenate(outputs)


def _batch_size(x):
    for leaf in flatten(x):
        shape = getattr(leaf, "shape", None)
        if shape:
            return int(shape[0])
        if isinstance(leaf, (list, tuple)):
            return len(leaf)
    return None


def _use_distribution(model, method):
    """The active `gkeras.distribution` strategy for this call, stored on
    the model for its steps (None, at the cost of one dict lookup, when
    the distribution module was never imported)."""
    import sys
    lib = sys.modules.get("gkeras.distribution.distribution_lib")
    dist = lib.distribution() if lib is not None else None
    if dist is not None and method in ("fit", "train_on_batch") and \
            type(model).train_step is not Trainer.train_step:
        raise NotImplementedError(
            f"{method}() under gkeras.distribution.DataParallel with a "
            f"custom `train_step` ({type(model).__name__}.train_step): the "
            "gradient all-reduce lives in the built-in train_step. Use the "
            "built-in step (customize compute_loss instead), or call "
            "set_distribution(None).")
    model.__dict__["_dist"] = dist
    return dist


def _dist_state(model):
    from gkeras.distribution.distribution_lib import _state_of
    return _state_of(model)


_LAYER_MODULE = []


def _layer_module():
    # Kept after the first call: an import statement costs ~1 us a call
    # and this runs several times per step.
    if not _LAYER_MODULE:
        from gkeras.layers import layer
        _LAYER_MODULE.append(layer)
    return _LAYER_MODULE[0]


def _capped_steps(steps):
    """`steps` limited by `gkeras.config.set_max_steps_per_epoch`, as
    Keras's epoch iterator does (with its warning)."""
    cap = global_settings.max_steps_per_epoch()
    if cap and (not steps or cap < steps):
        warnings.warn(f"Limiting steps_per_epoch to {cap}", stacklevel=3)
        return cap
    return steps


def _should_validate(epoch, freq):
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return (epoch + 1) in freq


def _fit_seed():
    from gkeras.utils.random_utils import draw_seed
    return draw_seed()

