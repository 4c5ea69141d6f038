"""What `compile` builds: the combined loss and the metric containers,
matched to the model's outputs (single, list or dict) as Keras does."""

from gkeras.ops import elementwise as E


def _names_and_preds(y_pred, output_names):
    if isinstance(y_pred, dict):
        return list(y_pred.keys()), list(y_pred.values())
    if isinstance(y_pred, (list, tuple)):
        names = list(output_names or [])
        if len(names) != len(y_pred):
            names = [f"output_{i}" for i in range(len(y_pred))]
        return names, list(y_pred)
    return [output_names[0] if output_names else "output"], [y_pred]


def _match_targets(y_true, names, what="y"):
    n = len(names)
    if isinstance(y_true, dict):
        missing = [k for k in names if k not in y_true]
        if missing:
            raise ValueError(
                f"The model's outputs are named {names}; the `{what}` dict "
                f"is missing {missing} (it has {list(y_true)}).")
        return [y_true[k] for k in names]
    if isinstance(y_true, (list, tuple)):
        if n == 1 and len(y_true) != 1:
            return [y_true]
        if len(y_true) != n:
            raise ValueError(
                f"The model has {n} outputs {names}, but `{what}` has "
                f"{len(y_true)} entries.")
        return list(y_true)
    if n != 1:
        raise ValueError(
            f"The model has {n} outputs {names}; pass `{what}` as a list "
            "or a dict keyed by output name.")
    return [y_true]


def _spread(spec, names, what):
    """A per-output list from a single spec, a list or a dict."""
    n = len(names)
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(
                f"In the `{what}` dict, keys {unknown} do not match any "
                f"model output. Expected keys are {names}.")
        return [spec.get(k) for k in names]
    if isinstance(spec, (list, tuple)) and what == "loss":
        if len(spec) != n:
            raise ValueError(
                f"For a model with {n} outputs, when providing the `loss` "
                f"argument as a list, it should have {n} entries. Received: "
                f"loss={list(spec)} of length {len(spec)}")
        return list(spec)
    return [spec] * n


def _check_loss_names(loss):
    """Resolves every loss of a `compile(loss=...)` argument once, so a
    misspelt name fails at `compile`, not at the first training step."""
    from gkeras import losses as losses_module
    if isinstance(loss, dict) and "class_name" not in loss:
        for key, spec in loss.items():
            try:
                _check_loss_names(spec)
            except ValueError as e:
                raise ValueError(f"For output {key!r}: {e}") from None
        return
    if isinstance(loss, (list, tuple)):
        for spec in loss:
            _check_loss_names(spec)
        return
    if loss is None or callable(loss) and not isinstance(loss, str):
        return
    try:
        losses_module.get(loss)
    except ValueError as e:
        raise ValueError(f"compile(loss={loss!r}): {e}") from None


class CompileLoss:
    """The weighted sum of one loss per model output.

    Args:
        loss: a loss (name, function, Loss) or a list/dict of them.
        loss_weights: optional list/dict of scalar weights.
        output_names: names of the model's outputs.
    """

    def __init__(self, loss, loss_weights=None, output_names=None):
        _check_loss_names(loss)
        self.loss = loss
        self.loss_weights = loss_weights
        self.output_names = output_names
        self.built = False
        self.metrics = []

    def build(self, y_true, y_pred):
        from gkeras import losses as losses_module
        from gkeras import metrics as metrics_module
        names, preds = _names_and_preds(y_pred, self.output_names)
        self.names = names
        specs = _spread(self.loss, names, "loss")
        fns = []
        for spec in specs:
            if spec is None:
                fns.append(None)
                continue
            fn = losses_module.get(spec)
            if not isinstance(fn, losses_module.Loss):
                fn = losses_module.LossFunctionWrapper(
                    fn, name=getattr(fn, "__name__", "loss"))
            fns.append(fn)
        self.fns = fns
        if self.loss_weights is None:
            self.weights = [None] * len(names)
        elif isinstance(self.loss_weights, dict):
            self.weights = [self.loss_weights.get(k, 1.0) for k in names]
        elif isinstance(self.loss_weights, (list, tuple)):
            if len(self.loss_weights) != len(names):
                raise ValueError(
                    f"`loss_weights` has {len(self.loss_weights)} entries but "
                    f"the model has {len(names)} outputs {names}.")
            self.weights = list(self.loss_weights)
        else:
            self.weights = [float(self.loss_weights)] * len(names)
        if len(names) > 1:
            self.metrics = [metrics_module.Mean(name=f"{n}_loss")
                            if f is not None else None
                            for n, f in zip(names, fns)]
        else:
            self.metrics = [None]
        self.built = True

    def __call__(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        _, preds = _names_and_preds(y_pred, self.names)
        trues = _match_targets(y_true, self.names)
        sws = _match_targets(sample_weight, self.names, "sample_weight") \
            if isinstance(sample_weight, (list, tuple, dict)) else \
            [sample_weight] * len(preds)
        total = None
        batch = None
        for yt, yp, fn, w, sw, tracker in zip(trues, preds, self.fns,
                                              self.weights, sws,
                                              self.metrics):
            if fn is None:
                continue
            value = fn(yt, yp, sample_weight=sw)
            # As Keras: `<output>_loss` logs the unweighted loss; the
            # weights only enter the total.
            if tracker is not None:
                batch = yp.shape[0] if batch is None else batch
                tracker.update_state(value, sample_weight=batch)
            if w is not None:
                value = E.multiply(value, w)
            total = value if total is None else E.add(total, value)
        if total is None:
            raise ValueError("No loss to compute: every output's loss is "
                             "None.")
        return total

    def reset_state(self):
        for m in self.metrics:
            if m is not None:
                m.reset_state()

    def get_config(self):
        return {"loss": self.loss, "loss_weights": self.loss_weights}


class CompileMetrics:
    """Metric objects per output, resolved from names on the first batch.

    Args:
        metrics: list (or list of lists / dict) of metrics.
        weighted_metrics: the same, updated with sample weights.
        output_names: names of the model's outputs.
    """

    def __init__(self, metrics, weighted_metrics=None, output_names=None):
        self.metrics_spec = metrics
        self.weighted_spec = weighted_metrics
        self.output_names = output_names
        self.built = False
        self.metrics = []

    def _resolve(self, spec, names, trues, preds, weighted):
        from gkeras import metrics as metrics_module
        n = len(names)
        if spec is None:
            return [[] for _ in names]
        if isinstance(spec, dict):
            per = _spread(spec, names, "metrics")
        elif isinstance(spec, (list, tuple)) and n > 1 and spec and all(
                isinstance(s, (list, tuple)) or s is None for s in spec):
            if len(spec) != n:
                raise ValueError(
                    f"For a model with {n} outputs, a list of metric lists "
                    f"must have {n} entries. Received {len(spec)}.")
            per = list(spec)
        else:
            per = [spec] * n
        out = []
        for i, (ms, yt, yp) in enumerate(zip(per, trues, preds)):
            if ms is None:
                out.append([])
                continue
            if not isinstance(ms, (list, tuple)):
                ms = [ms]
            objs = []
            for m in ms:
                obj = metrics_module.resolve_metric(m, yt, yp)
                if n > 1:
                    obj.name = f"{names[i]}_{obj.name}"
                if weighted and n == 1 and obj.name in {
                        o.name for o in self._flat}:
                    obj.name = "weighted_" + obj.name
                objs.append(obj)
                self._flat.append(obj)
            out.append(objs)
        return out

    def build(self, y_true, y_pred):
        names, preds = _names_and_preds(y_pred, self.output_names)
        trues = _match_targets(y_true, names)
        self.names = names
        self._flat = []
        self.per_output = self._resolve(self.metrics_spec, names, trues,
                                        preds, False)
        self.per_output_weighted = self._resolve(self.weighted_spec, names,
                                                 trues, preds, True)
        self.metrics = list(self._flat)
        self.built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        if not self.metrics:
            return
        _, preds = _names_and_preds(y_pred, self.names)
        trues = _match_targets(y_true, self.names)
        sws = _match_targets(sample_weight, self.names, "sample_weight") \
            if isinstance(sample_weight, (list, tuple, dict)) else \
            [sample_weight] * len(preds)
        for yt, yp, sw, ms, wms in zip(trues, preds, sws, self.per_output,
                                       self.per_output_weighted):
            for m in ms:
                m.update_state(yt, yp)
            for m in wms:
                m.update_state(yt, yp, sample_weight=sw)

    def reset_state(self):
        for m in self.metrics:
            m.reset_state()

    def result(self):
        return {m.name: m.result() for m in self.metrics}


class UnbuiltCompileMetrics:
    """Stands in `model.metrics` for the compiled metrics before their
    first batch, under Keras 3's name for them, `compile_metrics`.

    The compiled metrics are resolved from names (`"accuracy"`, ...) on
    the first batch they see. A custom `train_step` that loops over
    `self.metrics` and calls `metric.update_state(y, y_pred)` (the
    customizing-fit guide) must still reach them on that first batch: this
    view forwards to the `CompileMetrics` it wraps, which then builds and
    from then on lists its own metric objects.

    Args:
        compile_metrics: the model's `CompileMetrics`.
    """

    name = "compile_metrics"

    def __init__(self, compile_metrics):
        self._compile_metrics = compile_metrics

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._compile_metrics.update_state(y_true, y_pred, sample_weight)

    def reset_state(self):
        self._compile_metrics.reset_state()

    def result(self):
        return self._compile_metrics.result()
