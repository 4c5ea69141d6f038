"""`DropoutRNNCell`: the dropout-mask cache shared by the built-in cells."""

from gkeras import random as grandom
from gkeras.ops._base import xp_of
from gkeras.ops.engine import Tensor


def make_dropout_masks(shape, rate, seed_generator, xp, dtype, count=None):
    """Inverted-dropout masks (0 or `1 / (1 - rate)`), raw arrays.

    Args:
        shape: the mask shape, e.g. `(batch, features)`.
        rate: drop probability in (0, 1).
        seed_generator: the `SeedGenerator` that draws them.
        xp: numpy or cupy.
        dtype: float dtype of the masks.
        count: None for one mask, or the number of masks (one per gate),
            stacked on a new leading axis.

    Returns:
        An array of `shape`, or `(count,) + shape`.
    """
    keep = 1.0 - rate
    full = tuple(shape) if count is None else (count,) + tuple(shape)
    if keep <= 0:
        return xp.zeros(full, dtype)
    u = grandom.uniform_array(full, seed_generator, xp, dtype)
    m = (u < keep).astype(dtype)
    m *= m.dtype.type(1.0 / keep)
    return m


class DropoutRNNCell:
    """Mixin for cells with `dropout` / `recurrent_dropout`.

    A cell draws its masks once per batch (the same mask at every
    timestep, as Keras does) and caches them until the `RNN` layer resets
    them at the end of its call. With `dropout_mask_count` set (Keras's
    `implementation=1`, used whenever `recurrent_dropout > 0`) there is one
    mask per gate, stacked as `(gates, batch, size)`.

    The cell needs `dropout`, `recurrent_dropout` and `seed_generator`.
    """

    def _create_dropout_mask(self, step_input, rate):
        a = step_input.data if isinstance(step_input, Tensor) else step_input
        return make_dropout_masks(a.shape, rate, self.seed_generator,
                                  xp_of(a), a.dtype,
                                  getattr(self, "dropout_mask_count", None))

    def get_dropout_mask(self, step_input):
        """The (cached) input dropout mask for `step_input`'s shape, or
        None when `dropout` is 0."""
        if getattr(self, "_dropout_mask", None) is None and self.dropout > 0:
            self._dropout_mask = self._create_dropout_mask(step_input,
                                                           self.dropout)
        return getattr(self, "_dropout_mask", None)

    def get_recurrent_dropout_mask(self, step_input):
        """The (cached) recurrent dropout mask for the state's shape, or
        None when `recurrent_dropout` is 0."""
        if getattr(self, "_recurrent_dropout_mask", None) is None and \
                self.recurrent_dropout > 0:
            self._recurrent_dropout_mask = self._create_dropout_mask(
                step_input, self.recurrent_dropout)
        return getattr(self, "_recurrent_dropout_mask", None)

    def _active_dropout_masks(self, step_input, state, training):
        """`(input_mask, recurrent_mask)` for a step, each None unless
        training with a rate strictly between 0 and 1."""
        dp = self.get_dropout_mask(step_input) if training and \
            0.0 < self.dropout < 1.0 else None
        rdp = self.get_recurrent_dropout_mask(state) if training and \
            0.0 < self.recurrent_dropout < 1.0 else None
        return dp, rdp

    def reset_dropout_mask(self):
        """Forgets the cached input mask (the next batch draws a new one)."""
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        """Forgets the cached recurrent mask."""
        self._recurrent_dropout_mask = None

    def _gate_masks(self, mask, gates):
        """One mask per gate (None entries when no dropout)."""
        if mask is None:
            return [None] * gates
        if getattr(self, "dropout_mask_count", None) is None:
            return [mask] * gates
        return [mask[g] for g in range(gates)]
