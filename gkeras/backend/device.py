"""`gkeras.device`: the device scope (Keras's `keras.device`)."""


def _parse(device_name):
    if not isinstance(device_name, str):
        raise ValueError("Invalid value for argument `device_name`: expected "
                         f"a string like 'cpu' or 'gpu:0'. Received: "
                         f"{device_name!r}")
    kind, _, index = device_name.lower().partition(":")
    kind = {"cuda": "gpu"}.get(kind, kind)
    if kind not in ("cpu", "gpu") or (index and not index.isdigit()):
        raise ValueError(
            f"Invalid device name {device_name!r}: expected 'cpu', 'cpu:0', "
            "'gpu', 'gpu:N' or 'cuda:N'.")
    return kind, int(index or 0)


class device:
    """Context manager placing the arrays created inside it on a device.

    gkeras runs a process on one array backend (`GKERAS_BACKEND`): NumPy
    (the CPU) or CuPy (NVIDIA GPUs). On CuPy, `device("gpu:N")` makes GPU
    `N` current (CuPy's device context); on NumPy, `device("cpu")` is the
    device already in use. Moving work to the other backend inside a
    scope is not supported and raises a clear error.

    Args:
        device_name: `"cpu"`, `"gpu"`, `"gpu:N"` (or `"cuda:N"`).

    Example:

    ```python
    with gkeras.device("cpu"):
        y = model.predict(x)
    ```
    """

    def __init__(self, device_name):
        self.device_name = device_name
        self.kind, self.index = _parse(device_name)
        self._context = None

    def __enter__(self):
        from gkeras import backend
        name = backend.backend()
        if self.kind == "cpu":
            if name != "numpy":
                raise NotImplementedError(
                    f"gkeras.device({self.device_name!r}): this process runs "
                    "on the CuPy (GPU) backend; gkeras does not move work to "
                    "the CPU inside a scope. Run with GKERAS_BACKEND=numpy "
                    "to compute on the CPU.")
            if self.index != 0:
                raise ValueError(
                    f"gkeras.device({self.device_name!r}): the NumPy backend "
                    "has one device, 'cpu:0'.")
            return self
        if name != "cupy":
            raise NotImplementedError(
                f"gkeras.device({self.device_name!r}): this process runs on "
                "the NumPy (CPU) backend, so there is no GPU to place work "
                "on. Install the GPU extra and run with GKERAS_BACKEND=cupy "
                "(or auto) on a machine with an NVIDIA GPU.")
        xp = backend.get_xp()
        count = xp.cuda.runtime.getDeviceCount()
        if self.index >= count:
            raise ValueError(
                f"gkeras.device({self.device_name!r}): only {count} GPU(s) "
                f"are visible (gpu:0 to gpu:{count - 1}).")
        self._context = xp.cuda.Device(self.index)
        self._context.__enter__()
        return self

    def __exit__(self, *exc):
        if self._context is not None:
            self._context.__exit__(*exc)
            self._context = None
        return False


__all__ = ["device"]
