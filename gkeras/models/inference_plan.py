"""Cached call plans for running Functional (and Sequential) models eagerly.

Every layer call goes through `Layer.__call__`: symbolic-input check,
input conversion and autocast, training-flag and mask resolution, build,
input-spec check, call context, autocast scope, output check, activity
regularization and output masks. For a small model that machinery costs
as much as the arithmetic (MLP at batch 32: ~4 us per layer against a
~20 us GEMM). Most of it answers the same way call after call, so a plan
resolved once per model (and training flag) calls the `call()` of each
"plain" layer directly, keeping only the checks whose answer depends on
the values of this call (the input's type, dtype, mask and shape); any
other call goes through `Layer.__call__` as before.

A plan never holds weights or values: layers read their variables when
they run. It is dropped when anything that the skipped checks depend on
changes: `Layer.__setattr__` bumps `CALL_VERSION` when a layer's dtype
policy, `autocast`, activity regularizer, `built` flag or an instance
override of `call`/`compute_mask` is assigned; a Sequential's `add`/`pop`
makes a new graph, which gets its own plan.

The plan is a list of steps, each a callable taking the dict of computed
values (by the id of the graph's KerasTensor) and storing its outputs in
it, so a step may stand for several nodes: the fused Conv2D chains of
`inference_fusion.inference_plan` are one entry each.
A layer class may give its own inference path as `_gk_infer(x)` (a
Tensor in, a Tensor or NotImplemented out) together with
`_gk_infer_of = call`, the `call` it stands for: the plan uses it
outside a tape with `training` falsy, while `type(layer).call` is still
that `call` (a subclass with its own `call` runs that instead).

`call_model` is the same idea one level up: `model(x)`,
`predict_on_batch` and `predict_step` run a Functional or Sequential
model's graph without the model's own `Layer.__call__` when it is plain
too.
"""

from gkeras.models import inference_fusion
from gkeras.layers.layer import (_ANY_LOSSES_ADDED, _CTX, CALL_VERSION,
                                 Layer, _cast_dtype, _check_call_outputs,
                                 _is_float, _signature_flags, _to_tensor)
from gkeras.ops._base import _has_symbolic
from gkeras.ops.autocast import _SCOPE
from gkeras.ops.engine import _STATE, Tensor
from gkeras.ops.symbolic import KerasTensor, flatten, map_structure

# The methods whose base versions the plan stands in for; a class (or
# instance) that overrides one keeps the full `Layer.__call__`.
_LAYER_CALL = Layer.__call__
_LAYER_EAGER = Layer._eager_call
_LAYER_MASK = Layer.compute_mask
_OVERRIDES = ("__call__", "_eager_call", "compute_mask")


class _Cache:
    """What this module keeps on a graph (its plans) or a model (the
    verdict on its own call), in the object's `__dict__`: the plans refer
    to the model's layers, so a side table keyed by the model would keep
    some models alive; here they are one cycle the GC collects together.
    A copy or a pickle of the model gets an empty cache, and one carried
    over to another object by any other route is ignored (`owner`)."""

    __slots__ = ("owner", "entries")

    def __init__(self, owner=0):
        self.owner = owner
        self.entries = {}

    def __deepcopy__(self, memo):
        return _Cache()

    def __reduce__(self):
        return (_Cache, ())


def _cache_of(obj, key):
    cache = obj.__dict__.get(key)
    if cache is None or cache.owner != id(obj):
        # Stored past `Layer.__setattr__`: not a tracked attribute.
        cache = obj.__dict__[key] = _Cache(id(obj))
    return cache.entries

# Returned by `call_model` when the fast entry does not apply.
NOT_APPLICABLE = object()


def _is_plain(layer, own_call=_LAYER_CALL):
    """Whether `Layer.__call__` on a concrete input, with no autocast scope
    and no mask, reduces to `layer.call(x[, training=...])` plus the
    input-spec check (`own_call`: the `__call__` the class must have)."""
    cls = type(layer)
    if not isinstance(layer, Layer) or cls.__call__ is not own_call or \
            cls._eager_call is not _LAYER_EAGER or \
            cls.compute_mask is not _LAYER_MASK:
        return False
    d = layer.__dict__
    if any(name in d for name in _OVERRIDES[:3]) or \
            not d.get("_gk_initialized") or not layer.built or \
            layer.activity_regularizer is not None:
        return False
    policy = layer._dtype_policy
    return policy.compute_dtype == policy.variable_dtype


def _generic_step(op, args, kwargs, out_ids, training):
    """A node run as `Functional.call` runs it (the full layer call)."""
    from gkeras.models.functional import _accepts_training
    pass_training = training is not None and _accepts_training(op)

    def step(values):
        def get(v):
            return values[id(v)] if isinstance(v, KerasTensor) else v
        a = map_structure(get, args)
        k = map_structure(get, kwargs)
        if pass_training and "training" not in k:
            k["training"] = training
        store_outputs(values, out_ids, op(*a, **k))
    return step


def store_outputs(values, out_ids, outs):
    """Stores a node's outputs in `values` under its output ids (one id:
    the output itself, or the first of a structure)."""
    if len(out_ids) == 1:
        values[out_ids[0]] = outs if not isinstance(
            outs, (list, tuple, dict)) else flatten(outs)[0]
    else:
        for i, o in zip(out_ids, flatten(outs)):
            values[i] = o


def _plain_step(layer, in_id, out_id, training):
    """One single-input layer called without `Layer.__call__`.

    Per call it checks what depends on the input: a Tensor (not symbolic)
    of the layer's compute dtype, without a mask, of a shape that passed
    the layer's `input_spec` before; otherwise the layer is called in
    full.
    """
    has_training = _signature_flags(type(layer))[0]
    kw = {"training": training} if has_training and training is not None \
        else {}
    cast_dt = _cast_dtype(layer) if layer.autocast else None
    state = layer.__dict__
    cls = type(layer)
    # The layer's own inference path, where it has one for this `call`.
    infer_of = getattr(cls, "_gk_infer_of", None) if not training and \
        "call" not in state else None

    def full(x):
        return layer(x, **kw) if has_training and training is not None \
            else layer(x)

    def step(values):
        x = values[in_id]
        if type(x) is not Tensor or x._keras_mask is not None:
            values[out_id] = _single(full(x))
            return
        a = x.data
        if cast_dt is not None and a.dtype != cast_dt and _is_float(a.dtype):
            values[out_id] = _single(full(x))
            return
        spec = layer.input_spec
        if spec is not None:
            ok = state.get("_gk_spec_ok")
            if ok is None or ok[0] is not spec or ok[1] != a.shape:
                # The full call checks (and raises the usual error).
                values[out_id] = _single(full(x))
                return
        if infer_of is not None and cls.call is infer_of:
            out = layer._gk_infer(x)
            if out is NotImplemented:
                out = layer.call(x, **kw)
        else:
            out = layer.call(x, **kw)
        if type(out) is not Tensor:
            _check_call_outputs(layer, out)
            out = _single(out)
        values[out_id] = out
    return step


def _single(outs):
    return outs if not isinstance(outs, (list, tuple, dict)) else \
        flatten(outs)[0]


def _make_plan(graph, training):
    steps = []
    # Inference runs the graph's Conv2D -> BatchNorm -> ReLU -> MaxPool
    # chains as one fused entry each (models/inference_fusion.py).
    entries = graph._plan if training else \
        inference_fusion.inference_plan(graph)
    for op, simple, args, kwargs, out_ids in entries:
        if simple and len(out_ids) == 1 and _is_plain(op):
            steps.append(_plain_step(op, id(args[0]), out_ids[0], training))
        else:
            steps.append(_generic_step(op, args, kwargs, out_ids, training))
    return steps


def plan_for(graph, training):
    """The steps that run `graph` (a `Functional`) for this call, or None
    where the full per-layer calls are needed.

    Args:
        graph: the `Functional` whose `call` runs.
        training: the `training` argument `call` received.

    Returns:
        A list of callables `step(values)`, or None: under a recording
        `GradientTape`, inside an autocast scope, outside a model's
        `__call__`, or when `training` differs from the call context's.
    """
    ctx = _CTX
    if _STATE.recording or _SCOPE[0] is not None or ctx.depth == 0:
        return None
    tr = ctx.training
    if training is None:
        if tr is not None:
            return None
    elif tr is not bool(training):
        return None
    cached = _cache_of(graph, "_gk_plans")
    version = CALL_VERSION[0]
    entry = cached.get(tr)
    if entry is not None and entry[0] == version:
        return entry[1]
    steps = _make_plan(graph, tr)
    cached[tr] = (version, steps)
    return steps


_CALLS = []


def _model_graph(model):
    """The `Functional` that runs `model`'s `call`, when `model` is a
    Functional or Sequential model without its own `call`."""
    if not _CALLS:
        # Imported on first use: these modules import this one.
        from gkeras.models.functional import Functional
        from gkeras.models.model import Model
        from gkeras.models.sequential import Sequential
        _CALLS.extend((Functional.call, Sequential.call, Model.__call__))
    call = type(model).call
    if call is _CALLS[0]:
        return model
    if call is _CALLS[1]:
        return model._functional_graph
    return None


def call_model(model, x, training):
    """`model(x, training=training)` for a Functional or Sequential model
    on concrete inputs, without the model's own `Layer.__call__`.

    Args:
        model: the model.
        x: its inputs (arrays, tensors, or a list/dict of them).
        training: the training flag (None: the enclosing call's).

    Returns:
        The outputs, or `NOT_APPLICABLE` where the full call is needed
        (then nothing has been done).
    """
    if _STATE.recording or _SCOPE[0] is not None:
        return NOT_APPLICABLE
    graph = _model_graph(model)
    if graph is None:
        return NOT_APPLICABLE
    version = CALL_VERSION[0]
    cached = _cache_of(model, "_gk_call_verdict")
    verdict = cached.get(None)
    if verdict is None or verdict[0] != version:
        verdict = (version, _is_plain(model, _CALLS[2]),
                   _cast_dtype(model) if model.autocast and
                   model._convert_input_args else None)
        cached[None] = verdict
    if not verdict[1] or model.input_spec is not None or \
            "call" in model.__dict__ or _has_symbolic((x,), {}):
        return NOT_APPLICABLE
    inputs = _to_tensor(x, verdict[2])
    if type(inputs) is Tensor:
        if inputs._keras_mask is not None:
            return NOT_APPLICABLE
    elif isinstance(inputs, (list, tuple)):
        if any(getattr(t, "_keras_mask", None) is not None for t in inputs):
            return NOT_APPLICABLE
    ctx = _CTX
    if ctx.depth == 0 and _ANY_LOSSES_ADDED[0]:
        model._clear_losses()
    outer = ctx.training
    training = outer if training is None else bool(training)
    ctx.depth += 1
    ctx.training = training
    try:
        outputs = graph.call(inputs, training=training)
    finally:
        ctx.depth -= 1
        ctx.training = outer
    _check_call_outputs(model, outputs)
    return outputs
