"""Learning-rate schedules (`keras.optimizers.schedules`).

A schedule maps the optimizer's step (its `iterations`) to a learning
rate. The optimizer calls it with a Python int that it mirrors on the host,
so evaluating a schedule costs a few float operations and never reads from
the GPU; the math is that of Keras 3, evaluated in double precision.
"""

import math

import numpy as np


def _step(step):
    """The step as a Python number (a Variable/array is read once)."""
    if isinstance(step, (int, float)):
        return step
    data = getattr(step, "data", step)
    if hasattr(data, "get") and not isinstance(data, np.ndarray):
        data = data.get()
    return np.asarray(data).item()


class LearningRateSchedule:
    """The learning rate schedule base class.

    A schedule is a 1-arg callable `schedule(step) -> learning rate`. Pass
    one as an optimizer's `learning_rate`; it is then evaluated at every
    step with the optimizer's `iterations`.

    Subclasses implement `__call__(step)` and `get_config()`.

    Example:

    ```python
    class MyLRSchedule(LearningRateSchedule):
        def __init__(self, initial_learning_rate):
            self.initial_learning_rate = initial_learning_rate

        def __call__(self, step):
            return self.initial_learning_rate / (step + 1)

        def get_config(self):
            return {"initial_learning_rate": self.initial_learning_rate}

    optimizer = gkeras.optimizers.SGD(learning_rate=MyLRSchedule(0.1))
    ```
    """

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override "
            "`__call__(self, step)`.")

    def get_config(self):
        """Returns the schedule's configuration (a JSON-able dict)."""
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override "
            "`get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls, config):
        """Instantiates a schedule from its `get_config()` dict."""
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """A schedule that uses an exponential decay function.

    `initial_learning_rate * decay_rate ** (step / decay_steps)`; with
    `staircase=True`, `step / decay_steps` is an integer division.

    Args:
        initial_learning_rate: A float, the initial learning rate.
        decay_steps: A positive integer.
        decay_rate: A float, the decay rate.
        staircase: Whether to decay at discrete intervals.
        name: Optional name. Defaults to `"ExponentialDecay"`.

    Example:

    >>> sched = ExponentialDecay(0.1, decay_steps=10000, decay_rate=0.96)
    >>> optimizer = gkeras.optimizers.SGD(learning_rate=sched)
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate,
                 staircase=False, name="ExponentialDecay"):
        if decay_steps <= 0:
            raise ValueError("Argument `decay_steps` must be > 0. "
                             f"Received: decay_steps={decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        p = _step(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate ** p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """A schedule that uses a piecewise constant decay function.

    `values[0]` while `step <= boundaries[0]`, `values[1]` while
    `boundaries[0] < step <= boundaries[1]`, ..., `values[-1]` after
    `boundaries[-1]`.

    Args:
        boundaries: A list of increasing step numbers.
        values: A list of learning rates, one more than `boundaries`.
        name: Optional name. Defaults to `"PiecewiseConstant"`.

    Example:

    >>> sched = PiecewiseConstantDecay([100000, 110000], [1.0, 0.5, 0.1])
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length "
                f"of values. Received: boundaries={boundaries} of length "
                f"{len(boundaries)}, and values={values} of length "
                f"{len(values)}.")
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step):
        s = _step(step)
        for b, v in zip(self.boundaries, self.values):
            if s <= b:
                return v
        return self.values[-1]

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values,
                "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """A schedule that uses a polynomial decay function.

    `(initial - end) * (1 - step / decay_steps) ** power + end`, with the
    step capped at `decay_steps`; with `cycle=True`, `decay_steps` is
    multiplied by `ceil(step / decay_steps)` instead (1 at step 0).

    Args:
        initial_learning_rate: A float, the initial learning rate.
        decay_steps: A positive integer.
        end_learning_rate: The minimal end learning rate.
        power: The power of the polynomial. Defaults to `1.0` (linear).
        cycle: Whether it should cycle beyond `decay_steps`.
        name: Optional name. Defaults to `"PolynomialDecay"`.
    """

    def __init__(self, initial_learning_rate, decay_steps,
                 end_learning_rate=0.0001, power=1.0, cycle=False,
                 name="PolynomialDecay"):
        if decay_steps <= 0:
            raise ValueError("Argument `decay_steps` must be > 0. "
                             f"Received: decay_steps={decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        s = float(_step(step))
        decay_steps = float(self.decay_steps)
        if self.cycle:
            mult = 1.0 if s == 0 else math.ceil(s / decay_steps)
            decay_steps = decay_steps * mult
        else:
            s = min(s, decay_steps)
        p = s / decay_steps
        return ((self.initial_learning_rate - self.end_learning_rate)
                * (1 - p) ** self.power + self.end_learning_rate)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle,
                "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """A schedule that uses an inverse time decay function.

    `initial_learning_rate / (1 + decay_rate * step / decay_steps)`; with
    `staircase=True`, `step / decay_steps` is an integer division.

    Args:
        initial_learning_rate: A float, the initial learning rate.
        decay_steps: How often to apply decay.
        decay_rate: A float, the decay rate.
        staircase: Whether to apply decay in a discrete staircase.
        name: Optional name. Defaults to `"InverseTimeDecay"`.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate,
                 staircase=False, name="InverseTimeDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        p = _step(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1 + self.decay_rate * p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """A schedule that uses a cosine decay with optional linear warmup.

    Without warmup (`warmup_target=None`): with `s = min(step,
    decay_steps)`, `lr = initial * ((1 - alpha) * 0.5 * (1 + cos(pi * s /
    decay_steps)) + alpha)`. With warmup: for `step < warmup_steps` the
    rate goes linearly from `initial_learning_rate` to `warmup_target`,
    then decays from `warmup_target` as above over `decay_steps` more
    steps.

    Args:
        initial_learning_rate: A float, the initial learning rate.
        decay_steps: A positive integer, number of steps to decay over.
        alpha: Minimum learning rate value as a fraction of the decay's
            starting value.
        name: Optional name. Defaults to `"CosineDecay"`.
        warmup_target: A float, the learning rate reached after warmup;
            None skips warmup.
        warmup_steps: An integer, number of warmup steps.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0,
                 name="CosineDecay", warmup_target=None, warmup_steps=0):
        if decay_steps <= 0:
            raise ValueError("Argument `decay_steps` must be > 0. "
                             f"Received: decay_steps={decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target

    def _decay(self, s, decay_from):
        cosine = 0.5 * (1.0 + math.cos(math.pi * s / self.decay_steps))
        return decay_from * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        s = float(_step(step))
        if self.warmup_target is None:
            return self._decay(min(s, self.decay_steps),
                               self.initial_learning_rate)
        s = min(s, self.decay_steps + self.warmup_steps)
        if s < self.warmup_steps:
            return ((self.warmup_target - self.initial_learning_rate)
                    * (s / self.warmup_steps) + self.initial_learning_rate)
        return self._decay(s - self.warmup_steps, self.warmup_target)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha,
                "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """A schedule that uses a cosine decay schedule with warm restarts.

    The multiplier decays from 1 to `alpha` over `first_decay_steps`
    steps; then a warm restart begins a period `t_mul` times longer whose
    starting rate is `m_mul` times the previous one (SGDR, Loshchilov &
    Hutter 2016).

    Args:
        initial_learning_rate: A float, the initial learning rate.
        first_decay_steps: A positive integer, length of the first period.
        t_mul: Factor on the length of each next period.
        m_mul: Factor on the initial rate of each next period.
        alpha: Minimum learning rate as a fraction of
            `initial_learning_rate`.
        name: Optional name. Defaults to `"SGDRDecay"`.
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0,
                 m_mul=1.0, alpha=0.0, name="SGDRDecay"):
        if first_decay_steps <= 0:
            raise ValueError(
                "Argument `first_decay_steps` must be > 0. "
                f"Received: first_decay_steps={first_decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        fraction = float(_step(step)) / self.first_decay_steps
        t_mul = float(self._t_mul)
        if t_mul == 1.0:
            i_restart = math.floor(fraction)
            fraction -= i_restart
        else:
            i_restart = math.floor(
                math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
            sum_r = (1.0 - t_mul ** i_restart) / (1.0 - t_mul)
            fraction = (fraction - sum_r) / t_mul ** i_restart
        m_fac = self._m_mul ** i_restart
        cosine = 0.5 * m_fac * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * (
            (1 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps,
                "t_mul": self._t_mul, "m_mul": self._m_mul,
                "alpha": self.alpha, "name": self.name}
