"""`gkeras.utils`: seeding, data conversion and other helpers (Keras names)."""

from gkeras.utils.random_utils import set_random_seed  # noqa: F401
