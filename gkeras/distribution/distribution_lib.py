"""Data-parallel training across processes: MPI to launch and coordinate,
MPI (NumPy backend) or NCCL (CuPy backend) to all-reduce.

The process model is SPMD: `mpiexec -n N python train.py` starts N copies
of the same script; each holds a full replica of the model, takes its
contiguous shard of every global batch, and after backward the gradients
(scaled by the shard's share of the global batch), the averaged
non-trainable state (BatchNormalization moving statistics) and the
metric states travel in ONE fused sum-all-reduce per step. Replicas start
from rank 0's weights and stay bit-identical because every rank applies
the same reduced gradients.

Control-plane messages (seeds, flags, predictions) go over mpi4py's
object collectives; the data plane goes through the backend's
`collectives.Communicator` (`backend.cpu` on MPI, `backend.gpu` on NCCL).

Failure behaviour: an uncaught exception on any rank calls `MPI_Abort`
(the launcher then ends every rank), and a watchdog thread aborts the job
when a rank has waited in a collective (or a whole step) longer than
`collective_timeout` seconds, so a dead or hung peer never leaves the
others hanging silently.
"""

import os
import sys
import threading
import time

import numpy as np

from gkeras import backend

__all__ = ["DataParallel", "DeviceMesh", "Distribution", "ModelParallel",
           "LayoutMap", "TensorLayout", "distribution", "initialize",
           "is_chief", "list_devices", "local_rank", "rank",
           "set_distribution", "size"]

_DEFAULT_TIMEOUT = 600.0

_STATE = {
    "initialized": False,
    "mpi_comm": None,      # mpi4py COMM_WORLD
    "comm": None,          # backend Communicator (MPI or NCCL)
    "rank": 0,
    "size": 1,
    "local_rank": 0,
    "device": None,
    "watchdog": None,
    "distribution": None,
}


# -- process group -------------------------------------------------------------

def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(
            "gkeras.distribution needs mpi4py and an MPI library. Install "
            "them with `pip install gkeras[distributed]` (mpi4py plus the "
            "`mpich` wheel), then launch the script with "
            "`mpiexec -n <processes> python script.py`. "
            f"(Import error: {e})") from e
    return MPI


def initialize(job_addresses=None, num_processes=None, process_id=None,
               collective_timeout=None):
    """Joins the MPI job that launched this process and binds its device.

    Call it once at the start of the script (before building models), or
    let `DataParallel()` call it. With the CuPy backend, each process
    drives the GPU of its rank among the processes of its node
    (`local_rank % device_count`); NCCL communicators are created here.

    Args:
        job_addresses: not used with MPI (the launcher, `mpiexec`/`srun`,
            connects the processes); must be None.
        num_processes: expected number of processes; checked against the
            MPI world size when given.
        process_id: expected rank of this process; checked against the MPI
            rank when given.
        collective_timeout: seconds a rank may wait in one collective (or
            one training step) before the job is aborted with a clear
            error. Default: env `GKERAS_COLLECTIVE_TIMEOUT`, else 600.

    Returns:
        None.

    Example:

    ```python
    # mpiexec -n 2 python train.py
    import gkeras as keras
    keras.distribution.initialize()
    print(keras.distribution.rank(), keras.distribution.size())
    ```
    """
    if job_addresses is not None:
        raise NotImplementedError(
            "initialize(job_addresses=...) is not supported: gkeras joins "
            "the job through MPI, whose launcher (`mpiexec -n N`, `mpirun`, "
            "`srun`) connects the processes. Launch with it and pass "
            "job_addresses=None.")
    if _STATE["initialized"]:
        _check_world(num_processes, process_id)
        if collective_timeout is not None:
            _STATE["watchdog"].timeout = float(collective_timeout)
        return
    MPI = _import_mpi()
    comm = MPI.COMM_WORLD
    _STATE["mpi_comm"] = comm
    _STATE["rank"] = comm.Get_rank()
    _STATE["size"] = comm.Get_size()
    _check_world(num_processes, process_id)
    local = comm.Split_type(MPI.COMM_TYPE_SHARED, key=_STATE["rank"])
    _STATE["local_rank"] = local.Get_rank()
    local.Free()
    kernels = _kernels()
    _STATE["device"] = kernels.select_device(_STATE["local_rank"])
    _STATE["comm"] = kernels.Communicator(comm)
    if collective_timeout is None:
        collective_timeout = float(os.environ.get(
            "GKERAS_COLLECTIVE_TIMEOUT", _DEFAULT_TIMEOUT))
    _STATE["watchdog"] = _Watchdog(float(collective_timeout))
    _install_excepthook()
    _STATE["initialized"] = True


def _kernels():
    if backend.backend() == "cupy":
        from gkeras.backend import gpu as kernels
    else:
        from gkeras.backend import cpu as kernels
    return kernels


def _check_world(num_processes, process_id):
    if num_processes is not None and int(num_processes) != _STATE["size"]:
        raise ValueError(
            f"initialize(num_processes={num_processes}) does not match the "
            f"MPI job, which has {_STATE['size']} processes. Launch with "
            f"`mpiexec -n {num_processes}` or drop the argument.")
    if process_id is not None and int(process_id) != _STATE["rank"]:
        raise ValueError(
            f"initialize(process_id={process_id}) does not match this "
            f"process's MPI rank {_STATE['rank']}; MPI assigns ranks, so "
            "drop the argument.")


def rank():
    """The rank of this process in the job (0 when not distributed).

    Returns:
        An int in `[0, size())`.
    """
    return _STATE["rank"]


def size():
    """The number of processes in the job (1 when not distributed).

    Returns:
        An int >= 1.
    """
    return _STATE["size"]


def local_rank():
    """The rank of this process among the processes of its node (it picks
    the GPU). 0 when not distributed.

    Returns:
        An int.
    """
    return _STATE["local_rank"]


def is_chief():
    """Whether this process is the one that prints and writes files.

    Rank 0 of a distributed job, or any process that has not joined one.
    Callbacks that write files (checkpoints, TensorBoard, CSV logs) and
    `model.save` act only where this is True.

    Returns:
        bool.

    Example:

    ```python
    if keras.distribution.is_chief():
        print("training done")
    ```
    """
    return _STATE["rank"] == 0


def list_devices(device_type=None):
    """Lists the devices of the whole job, as Keras 3 does.

    One device per process (each process drives one GPU, or the CPU):
    `["gpu:0", "gpu:1", ...]` or `["cpu:0", ...]`. Before `initialize()`
    this lists the local devices (all visible GPUs, or one CPU).

    Args:
        device_type: `"cpu"`, `"gpu"` or None (the backend's default:
            `"gpu"` on CuPy, `"cpu"` on NumPy).

    Returns:
        A list of device strings.

    Example:

    >>> keras.distribution.list_devices()
    ['cpu:0']
    """
    kind = (device_type or ("gpu" if backend.backend() == "cupy"
                            else "cpu")).lower()
    if kind not in ("cpu", "gpu"):
        raise ValueError(
            f"list_devices(device_type={device_type!r}): expected 'cpu', "
            "'gpu' or None.")
    if _STATE["initialized"]:
        return [f"{kind}:{i}" for i in range(_STATE["size"])]
    if kind == "gpu":
        if backend.backend() != "cupy":
            return []
        import gkeras.backend as B
        return [f"gpu:{i}" for i in
                range(B.get_xp().cuda.runtime.getDeviceCount())]
    return ["cpu:0"]


# -- failure handling --------------------------------------------------------------

class _Watchdog:
    """Aborts the job when this rank waits too long in a guarded region.

    The training loop marks a region (a collective, or a whole step) with
    `watch(what)`; a daemon thread checks once a second. Entering and
    leaving a region costs two attribute writes.
    """

    def __init__(self, timeout):
        self.timeout = timeout
        self.since = None
        self.what = None
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="gkeras-collective-watchdog")
        self._thread.start()

    def watch(self, what):
        return _Region(self, what)

    def _run(self):
        while True:
            time.sleep(min(1.0, max(self.timeout / 4, 0.05)))
            since = self.since
            if since is not None and time.monotonic() - since > self.timeout:
                _abort(
                    f"gkeras.distribution: rank {_STATE['rank']} of "
                    f"{_STATE['size']} waited more than {self.timeout:g} s in "
                    f"{self.what}. Another rank has probably died or hung "
                    "(see its output above). Aborting the whole job. "
                    "Raise the limit with GKERAS_COLLECTIVE_TIMEOUT=<seconds> "
                    "or initialize(collective_timeout=...) if steps are "
                    "legitimately this slow.", 3)


class _Region:
    __slots__ = ("dog", "what", "prev")

    def __init__(self, dog, what):
        self.dog, self.what = dog, what

    def __enter__(self):
        self.prev = (self.dog.since, self.dog.what)
        if self.prev[0] is None:
            self.dog.since = time.monotonic()
            self.dog.what = self.what
        return self

    def __exit__(self, *exc):
        self.dog.since, self.dog.what = self.prev
        return False


class _NullRegion:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _watch(what):
    dog = _STATE["watchdog"]
    return dog.watch(what) if dog is not None else _NullRegion()


def _abort(message, code):
    try:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    except Exception:
        pass
    # MPI_Abort makes the launcher end every rank; if it cannot (a broken
    # network), leave anyway so this rank does not hang either.
    threading.Timer(10.0, os._exit, args=(code,)).start()
    comm = _STATE["comm"]
    if hasattr(comm, "abort"):
        try:
            comm.abort()
        except Exception:
            pass
    try:
        _STATE["mpi_comm"].Abort(code)
    finally:
        os._exit(code)


def _install_excepthook():
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        previous(exc_type, exc, tb)
        if _STATE["size"] > 1:
            _abort(f"gkeras.distribution: rank {_STATE['rank']} raised "
                   f"{exc_type.__name__}; aborting the whole job so the other "
                   "ranks do not wait for it forever.", 1)

    sys.excepthook = hook


# -- Keras 3 distribution objects -------------------------------------------------

class DeviceMesh:
    """A named grid of devices (Keras 3 API).

    gkeras shards data over a 1-D mesh of processes (one device each).

    Args:
        shape: mesh shape; must be `(n,)` with n the number of processes.
        axis_names: names of the mesh axes, e.g. `["batch"]`.
        devices: device strings (default `list_devices()`).

    Example:

    >>> mesh = DeviceMesh((size(),), ["batch"])
    """

    def __init__(self, shape, axis_names, devices=None):
        shape = tuple(int(s) for s in shape)
        axis_names = list(axis_names)
        if len(shape) != len(axis_names):
            raise ValueError(
                f"DeviceMesh: shape {shape} and axis_names {axis_names} must "
                "have the same length.")
        devices = list(devices) if devices is not None else list_devices()
        if int(np.prod(shape)) != len(devices):
            raise ValueError(
                f"DeviceMesh: shape {shape} holds {int(np.prod(shape))} "
                f"devices but {len(devices)} were given ({devices}).")
        self.shape = shape
        self.axis_names = axis_names
        self.devices = np.array(devices, dtype=object).reshape(shape)

    def __repr__(self):
        return (f"<DeviceMesh shape={self.shape}, "
                f"axis_names={self.axis_names}>")


class TensorLayout:
    """How a tensor is laid out on a `DeviceMesh` (Keras 3 API).

    Args:
        axes: per tensor dimension, a mesh axis name or None (replicated).
        device_mesh: the mesh.
    """

    def __init__(self, axes, device_mesh=None):
        self.axes = tuple(axes)
        self.device_mesh = device_mesh


class LayoutMap(dict):
    """Maps variable-path regexes to layouts, for `ModelParallel`
    (Keras 3 API). gkeras replicates every variable, so a LayoutMap can
    be built but `ModelParallel` raises NotImplementedError."""

    def __init__(self, device_mesh=None):
        super().__init__()
        self.device_mesh = device_mesh


class Distribution:
    """Base class of distribution strategies (Keras 3 API).

    Args:
        device_mesh: the `DeviceMesh` the strategy runs on.
    """

    def __init__(self, device_mesh):
        self.device_mesh = device_mesh

    def scope(self):
        """Context manager making this the current distribution."""
        return _DistributionScope(self)


class _DistributionScope:
    def __init__(self, dist):
        self.dist = dist

    def __enter__(self):
        self.prev = _STATE["distribution"]
        set_distribution(self.dist)
        return self.dist

    def __exit__(self, *exc):
        _STATE["distribution"] = self.prev
        return False


class ModelParallel(Distribution):
    """Keras 3's model-parallel strategy: not available in gkeras."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "ModelParallel is not implemented in gkeras: variables are "
            "replicated on every process. Use DataParallel().")


def set_distribution(value):
    """Sets the distribution strategy used by `fit`/`evaluate`/`predict`.

    Args:
        value: a `DataParallel`, or None to train in this process alone.

    Example:

    ```python
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    ```
    """
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(
            "set_distribution: expected a gkeras.distribution.DataParallel "
            f"or None. Received: {value!r}")
    _STATE["distribution"] = value


def distribution():
    """The current distribution strategy (None when unset).

    Returns:
        A `DataParallel` or None.
    """
    return _STATE["distribution"]


class DataParallel(Distribution):
    """Data-parallel training: every process holds a full replica and
    takes its shard of every global batch.

    Launch the script with `mpiexec -n N python train.py`. `fit`'s
    `batch_size` is the global batch size: process r trains on the
    contiguous rows `array_split(batch, N)[r]`, and the gradients are
    weighted by each shard's share of the global batch and summed, so a
    step equals a single-process step on the global batch (to float32
    rounding). BatchNormalization uses per-replica batch statistics (as
    Keras does) and averages its moving statistics across replicas; ask
    for `BatchNormalization(synchronized=True)` (or
    `SyncBatchNormalization`) for global-batch statistics. Metrics,
    losses and History are global; only rank 0 prints and writes files.

    Args:
        device_mesh: optional 1-D `DeviceMesh` over all processes.
        devices: optional device list; must be `list_devices()` (one device
            per process).
        auto_shard_dataset: must be True: every process reads the same
            global batches and keeps its own rows.

    Example:

    ```python
    # mpiexec -n 2 python train.py
    import gkeras as keras
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    model.fit(x, y, batch_size=256, epochs=10)
    ```
    """

    def __init__(self, device_mesh=None, devices=None,
                 auto_shard_dataset=True):
        initialize()
        everyone = list_devices()
        if devices is not None and list(devices) != everyone:
            raise NotImplementedError(
                f"DataParallel(devices={list(devices)}): gkeras runs one "
                f"device per process over all processes ({everyone}); "
                "launch with fewer processes instead of passing a subset.")
        if device_mesh is None:
            device_mesh = DeviceMesh((len(everyone),), ["batch"], everyone)
        elif len(device_mesh.shape) != 1 or \
                list(device_mesh.devices.ravel()) != everyone:
            raise NotImplementedError(
                f"DataParallel: only a 1-D mesh over all processes "
                f"({everyone}) is supported. Received: {device_mesh!r}")
        if not auto_shard_dataset:
            raise NotImplementedError(
                "DataParallel(auto_shard_dataset=False): gkeras always shards "
                "the global batches across processes; feed every process the "
                "same data.")
        super().__init__(device_mesh)
        self.auto_shard_dataset = True
        self.batch_dim_name = device_mesh.axis_names[0]
        self.comm = _STATE["comm"]
        self.mpi_comm = _STATE["mpi_comm"]
        self.rank = _STATE["rank"]
        self.size = _STATE["size"]
        # Per-step shard bookkeeping, set by shard_batch.
        self.weight = 1.0 / self.size
        self.update_metrics = True

    def __repr__(self):
        return (f"<DataParallel processes={self.size} rank={self.rank} "
                f"collectives={self.comm.backend_name}>")

    # -- control plane (host objects over MPI) --------------------------------

    def bcast_object(self, obj, root=0):
        """Rank `root`'s Python object, on every rank."""
        with _watch("a broadcast"):
            return self.mpi_comm.bcast(obj, root=root)

    def any(self, flag):
        """True on every rank when `flag` is true on some rank."""
        with _watch("an agreement"):
            return bool(self.mpi_comm.allreduce(bool(flag), op=_mpi_max()))

    def allgather_object(self, obj):
        """Every rank's object, in rank order."""
        with _watch("a gather"):
            return self.mpi_comm.allgather(obj)

    # -- sharding ---------------------------------------------------------------

    def shard_batch(self, batch):
        """This rank's rows of a global batch (any nest of arrays whose
        first dimension is the batch), and the weights of this step.

        A global batch of N >= size rows is split as `numpy.array_split`
        does (contiguous, sizes differing by at most one); a smaller one
        (the tail of an epoch) is processed whole by every rank with
        weight 1/size, metrics counted on rank 0 only.
        """
        from gkeras.ops.symbolic import map_structure
        n = _leading_dim(batch)
        if n is None:
            raise ValueError(
                "DataParallel could not find the batch dimension of the "
                "data: every element of a batch must be an array with the "
                f"samples on axis 0. Received: {type(batch).__name__}")
        if n < self.size:
            self.weight = 1.0 / self.size
            self.update_metrics = self.rank == 0
            return batch
        q, r = divmod(n, self.size)
        start = self.rank * q + min(self.rank, r)
        stop = start + q + (1 if self.rank < r else 0)
        self.weight = (stop - start) / n
        self.update_metrics = True
        return map_structure(lambda a: _rows(a, start, stop, n), batch)

    # -- model state -------------------------------------------------------------

    def broadcast_model(self, model):
        """Copies rank 0's weights (and optimizer state, once built) to
        every rank: one broadcast per dtype."""
        variables = list(model.variables)
        opt = getattr(model, "optimizer", None)
        if opt is not None and getattr(opt, "built", False):
            variables += list(opt.variables)
        groups = {}
        for v in variables:
            groups.setdefault(str(v.data.dtype), []).append(v)
        xp = backend.get_array_module(*(v.data for v in variables)) \
            if variables else np
        with _watch("the broadcast of rank 0's weights"):
            for dtype, vs in groups.items():
                total = sum(int(v.data.size) for v in vs)
                buf = xp.empty(total, dtype=dtype)
                _pack(buf, [v.data for v in vs], None)
                self.comm.broadcast_(buf, root=0)
                _unpack_into(buf, vs)

    def train_step(self, model, data):
        """The distributed body of `Model.train_step`: forward and backward
        on this rank's shard, then one fused sum-all-reduce of
        [weighted gradients | averaged moving statistics | metric states],
        then the optimizer update (identical on every rank)."""
        from gkeras.models import data_adapter
        from gkeras.ops.engine import GradientTape, backward, no_grad
        x, y, sample_weight = data_adapter.unpack_x_y_sample_weight(data)
        st = _state_of(model)
        if not st.synced:
            if not model.built or not model.variables:
                # Lazily built models (deferred Sequential, subclassed)
                # create their weights on the first call; build them before
                # the broadcast so the first step already starts from rank
                # 0's weights.
                with no_grad():
                    model(x, training=False)
            self.broadcast_model(model)
            st.synced = True
        with _watch("a training step"):
            with GradientTape():
                y_pred = model(x, training=True)
                loss = model.compute_loss(x, y, y_pred, sample_weight)
                # Loss scaling (LossScaleOptimizer, `loss_scale_factor`):
                # every rank sees the same all-reduced gradients, so all
                # take the same skip/apply decision.
                scaled = model.optimizer.scale_loss(loss)
            tvars, changed = model._current_step_vars()
            if changed:
                st.plan = None
            grads = backward(scaled, tvars)
            if all(g is None for g in grads) and tvars:
                raise ValueError(
                    "No gradients were computed for any variable: the loss "
                    "does not depend on the model's trainable weights.")
            if self.update_metrics:
                model._update_metrics(x, y, y_pred, sample_weight, loss)
            if st.plan is None:
                st.plan = _Plan(model, tvars, self.size)
            plan = st.plan
            buf = plan.pack(grads, self.weight)
            with _watch("the gradient all-reduce"):
                self.comm.allreduce_sum_(buf)
            reduced = plan.unpack(buf, grads)
            model.optimizer.apply(reduced, tvars)
        st.metrics_global = plan.metric_views
        return model._metrics_result

    def reduce_metrics(self, model):
        """Sums the metric states over ranks (after an evaluation loop),
        for global logs."""
        st = _state_of(model)
        mvars = _metric_variables(model)
        xp = backend.get_array_module(*(v.data for v in mvars)) \
            if mvars else np
        total = sum(int(v.data.size) for v in mvars)
        buf = xp.empty(total, dtype="float32")
        _pack(buf, [v.data for v in mvars], None)
        with _watch("the metric all-reduce"):
            self.comm.allreduce_sum_(buf)
        views, off = [], 0
        for v in mvars:
            k = int(v.data.size)
            views.append((v, buf[off:off + k].reshape(v.data.shape)))
            off += k
        st.metrics_global = views

    def metrics_result(self, model, local_result):
        """Global logs: the metric results computed from the summed
        states of the last reduction (local states are put back)."""
        views = _state_of(model).metrics_global
        if not views:
            return local_result()
        saved = [(v, v.data.copy()) for v, _ in views]
        try:
            for v, g in views:
                v.data[...] = g
            return local_result()
        finally:
            for v, old in saved:
                v.data[...] = old

    def reset(self, model):
        """Forgets the last metric reduction (metrics were reset)."""
        st = model.__dict__.get("_gk_dist_state")
        if st is not None:
            st.metrics_global = None

    def filter_callbacks(self, callbacks):
        """The callbacks this rank runs: every callback on rank 0; on the
        other ranks, all but those that only print or write files
        (progress bars, checkpoints, TensorBoard, CSV logs, or any
        callback with a true `_chief_only` attribute). Callbacks that
        steer training (EarlyStopping, ReduceLROnPlateau, schedulers)
        run everywhere and see the same global logs."""
        if callbacks is None or self.rank == 0:
            return callbacks
        if not isinstance(callbacks, (list, tuple)):
            callbacks = [callbacks]
        return [cb for cb in callbacks
                if not getattr(cb, "_chief_only", False)
                and type(cb).__name__ not in _CHIEF_ONLY_CALLBACKS]

    def ensure_synced(self, model):
        """Broadcasts rank 0's weights once if this model has not been
        synchronized yet (evaluate/predict before any fit)."""
        st = _state_of(model)
        if not st.synced and model.built and model.variables:
            self.broadcast_model(model)
            st.synced = True

    def gather_predictions(self, per_batch):
        """Predictions of every rank, back in global-batch order."""
        everyone = self.allgather_object(per_batch)
        out = []
        for b in range(len(per_batch)):
            parts = [everyone[r][b] for r in range(self.size)
                     if everyone[r][b] is not None]
            out.append(parts[0] if len(parts) == 1 else
                       _concat_structs(parts))
        return out


_CHIEF_ONLY_CALLBACKS = frozenset({
    "ProgbarLogger", "ModelCheckpoint", "TensorBoard", "CSVLogger",
    "RemoteMonitor"})


def _mpi_max():
    return _import_mpi().MAX


# -- step plan: the fused buffer layout ------------------------------------------

class _ModelState:
    __slots__ = ("synced", "plan", "metrics_global")

    def __init__(self):
        self.synced = False
        self.plan = None
        self.metrics_global = None


def _state_of(model):
    st = model.__dict__.get("_gk_dist_state")
    if st is None:
        st = _ModelState()
        model.__dict__["_gk_dist_state"] = st
    return st


def _metric_variables(model):
    out = []
    for m in model.metrics:
        out.extend(v for v in m.variables)
    return out


def _synced_state_variables(model):
    """Non-trainable floating state that training updates in place
    (BatchNormalization moving statistics): the non-trainable variables
    of trainable layers. Frozen layers do not change, so their weights
    stay out of the per-step all-reduce."""
    out, seen = [], set()
    for layer in model._flatten_layers(include_self=True):
        if not layer.trainable:
            continue
        for v in layer._non_trainable_variables:
            if id(v) in seen or v.data.dtype.kind != "f":
                continue
            seen.add(id(v))
            out.append(v)
    return out


class _Plan:
    """Offsets of every piece in the fused all-reduce buffer (built once
    per set of trainable variables, reused every step)."""

    def __init__(self, model, tvars, world):
        self.tvars = tvars
        self.state = _synced_state_variables(model)
        self.metrics = _metric_variables(model)
        arrays = [v.data for v in tvars + self.state + self.metrics]
        xp = backend.get_array_module(*arrays) if arrays else np
        sizes = [int(a.size) for a in arrays]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
        self.buf = xp.empty(int(self.offsets[-1]), dtype="float32")
        self.n_t = len(tvars)
        self.n_s = len(self.state)
        self.state_scale = {}
        for v in self.state:
            agg = getattr(v, "aggregation", "mean")
            self.state_scale[id(v)] = (
                1.0 if agg == "sum" else None if agg == "only_first_replica"
                else 1.0 / world)
        self.world = world
        o = self.offsets
        self.grad_views = [self.buf[o[i]:o[i + 1]].reshape(v.data.shape)
                           for i, v in enumerate(tvars)]
        base = self.n_t
        self.state_views = [
            self.buf[o[base + i]:o[base + i + 1]].reshape(v.data.shape)
            for i, v in enumerate(self.state)]
        base += self.n_s
        self.metric_views = [
            (v, self.buf[o[base + i]:o[base + i + 1]].reshape(v.data.shape))
            for i, v in enumerate(self.metrics)]

    def pack(self, grads, weight):
        from gkeras.ops.engine import Tensor
        w = np.float32(weight)
        for g, view in zip(grads, self.grad_views):
            if g is None:
                view[...] = 0
                continue
            if isinstance(g, Tensor):
                g = g.data
            if g.dtype == view.dtype and g.shape == view.shape:
                # The copy into the buffer is the scaling: no extra pass.
                backend.get_array_module(g).multiply(g, w, out=view)
            else:
                view[...] = g * w
        rank0 = _STATE["rank"] == 0
        for v, view in zip(self.state, self.state_views):
            s = self.state_scale[id(v)]
            if s is None:
                s = 1.0 if rank0 else 0.0
            view[...] = v.data * np.float32(s)
        for v, view in self.metric_views:
            view[...] = v.data
        return self.buf

    def unpack(self, buf, grads):
        for v, view in zip(self.state, self.state_views):
            v.data[...] = view
        out = []
        for g, v, view in zip(grads, self.tvars, self.grad_views):
            if g is None:
                out.append(None)
            elif view.dtype != v.data.dtype:
                out.append(view.astype(v.data.dtype))
            else:
                out.append(view)
        return out


def _pack(buf, arrays, scale):
    off = 0
    for a in arrays:
        k = int(a.size)
        buf[off:off + k] = a.reshape(-1)
        off += k


def _unpack_into(buf, variables):
    off = 0
    for v in variables:
        k = int(v.data.size)
        v.data[...] = buf[off:off + k].reshape(v.data.shape)
        off += k


# -- batch helpers ---------------------------------------------------------------------

def _leading_dim(batch):
    from gkeras.ops.symbolic import flatten
    for leaf in flatten(batch):
        shape = getattr(leaf, "shape", None)
        if shape:
            return int(shape[0])
    return None


def _rows(a, start, stop, n):
    shape = getattr(a, "shape", None)
    if not shape or int(shape[0]) != n:
        return a
    return a[start:stop]


def _concat_structs(parts):
    first = parts[0]
    if isinstance(first, dict):
        return {k: np.concatenate([p[k] for p in parts]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(np.concatenate([p[i] for p in parts])
                           for i in range(len(first)))
    return np.concatenate(parts)
