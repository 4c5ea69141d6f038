"""`DTypePolicy`: the compute and variable dtypes of a layer (Keras 3).

A policy named after a float dtype (`"float32"`, `"float16"`,
`"bfloat16"`, `"float64"`) computes and stores in that dtype. The mixed
policies `"mixed_float16"` and `"mixed_bfloat16"` keep the variables in
float32 and compute in the half-precision dtype: a layer casts its
floating inputs to the compute dtype and, while it runs, reads its float32
variables cast to it (autocasting, `gkeras.ops.autocast`).
"""

from gkeras import backend
from gkeras.backend import config as _config

QUANTIZATION_MODES = ("int8", "float8", "int4", "gptq", "awq")


class DTypePolicy:
    """A dtype policy for a gkeras layer.

    The policy determines a layer's computation and variable dtypes. Pass
    one (or its name) as a layer's `dtype` argument, or set a global policy
    with `gkeras.config.set_dtype_policy` (also
    `gkeras.mixed_precision.set_global_policy`).

    Args:
        name: the policy name. A float dtype name (`"float32"`,
            `"float16"`, `"bfloat16"`, `"float64"`) makes both dtypes that
            dtype; `"mixed_float16"` / `"mixed_bfloat16"` compute in
            float16 / bfloat16 and keep float32 variables. Default: the
            global policy's name.

    Example:

    >>> gkeras.config.set_dtype_policy("mixed_float16")
    >>> layer = gkeras.layers.Dense(10)
    >>> layer.dtype_policy
    <DTypePolicy "mixed_float16">
    >>> gkeras.layers.Dense(10, dtype="float32").compute_dtype
    'float32'
    >>> gkeras.config.set_dtype_policy("float32")
    """

    def __init__(self, name=None):
        if name is None:
            name = dtype_policy().name
        self._name = name
        self._compute_dtype, self._variable_dtype = self._parse_name(name)
        self._quantization_mode = None

    def _parse_name(self, name):
        if not isinstance(name, str):
            raise TypeError(
                "'name' must be a string, such as 'mixed_float16'. "
                f"Received: name={name} (of type {type(name)})")
        if name == "mixed_float16":
            return "float16", "float32"
        if name == "mixed_bfloat16":
            return "bfloat16", "float32"
        if name.startswith(QUANTIZATION_MODES):
            raise NotImplementedError(
                f"Quantized dtype policy {name!r}: gkeras does not implement "
                "quantization (QuantizedDTypePolicy, int8/int4/float8/GPTQ/"
                "AWQ). Use a float or mixed precision policy.")
        try:
            dtype = backend.standardize_dtype(name)
        except (TypeError, ValueError):
            dtype = None
        if dtype is None:
            raise ValueError(
                f"Cannot convert '{name}' to a mixed precision "
                "DTypePolicy. Valid policies include 'mixed_float16', "
                "'mixed_bfloat16', and the name of any float dtype such as "
                "'float32'.")
        return dtype, dtype

    @property
    def variable_dtype(self):
        """The dtype layers create their variables in (a string)."""
        return self._variable_dtype

    @property
    def compute_dtype(self):
        """The dtype of the layer's computations, inputs and outputs."""
        return self._compute_dtype

    @property
    def name(self):
        """The name of the policy."""
        return self._name

    @property
    def quantization_mode(self):
        """The quantization mode: always None (gkeras does not quantize)."""
        return self._quantization_mode

    def get_config(self):
        """The policy's config, `{"name": ...}`."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        """Creates a policy from its config."""
        return cls(**config)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'

    def __eq__(self, other):
        if type(other) not in (DTypePolicy, FloatDTypePolicy):
            return False
        return self._name == other._name

    def __hash__(self):
        return hash(("DTypePolicy", self._name))


class FloatDTypePolicy(DTypePolicy):
    """An alias of `DTypePolicy` (Keras 3 kept the name)."""


def set_dtype_policy(policy):
    """Sets the default dtype policy globally.

    Layers created afterwards (and models) take it unless given their own
    `dtype`. Under `"mixed_float16"`, `Model.compile` wraps the optimizer
    in a `LossScaleOptimizer`.

    Args:
        policy: a `DTypePolicy` or a policy name (`"mixed_float16"`,
            `"mixed_bfloat16"`, `"float32"`, ...).

    Example:

    >>> gkeras.config.set_dtype_policy("mixed_float16")
    >>> gkeras.config.dtype_policy()
    <DTypePolicy "mixed_float16">
    """
    if not isinstance(policy, DTypePolicy):
        if isinstance(policy, str):
            policy = DTypePolicy(policy)
        else:
            raise ValueError(
                "Invalid `policy` argument. Expected the string name of a "
                "policy (such as 'mixed_float16') or a `DTypePolicy` "
                f"instance. Received: policy={policy} (of type "
                f"{type(policy)})")
    _config._DTYPE_POLICY[0] = policy


def dtype_policy():
    """Returns the current default dtype policy object.

    Returns:
        The global `DTypePolicy` (a `floatx()` policy unless one was set).
    """
    policy = _config._DTYPE_POLICY[0]
    if policy is None:
        # Not cached: the default follows `set_floatx`.
        return DTypePolicy(backend.floatx())
    return policy
