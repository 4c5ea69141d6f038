"""`gkeras.preprocessing`: data preprocessing utilities (Keras names).

`gkeras.preprocessing.sequence.pad_sequences` (Keras 2 spelling, also
`gkeras.utils.pad_sequences`) and
`gkeras.preprocessing.timeseries_dataset_from_array` (also in
`gkeras.utils`).
"""

from gkeras.preprocessing import sequence
from gkeras.utils.dataset_utils import timeseries_dataset_from_array

__all__ = ["sequence", "timeseries_dataset_from_array"]
