"""`gkeras.distribution`: data-parallel training across processes (Keras 3
names), on MPI (mpi4py) for launch and CPU collectives and NCCL (CuPy)
for GPU collectives.

```python
# mpiexec -n 4 python train.py
import gkeras as keras
keras.distribution.set_distribution(keras.distribution.DataParallel())
model = build_model(); model.compile(...)
model.fit(x, y, batch_size=256, epochs=10)   # 256 = the global batch
```

mpi4py is imported by `initialize()` (or `DataParallel()`), not by
`import gkeras.distribution`: `pip install gkeras[distributed]` brings it
with a wheel-packaged MPI.
"""

from gkeras.distribution.distribution_lib import (  # noqa: F401
    DataParallel,
    DeviceMesh,
    Distribution,
    LayoutMap,
    ModelParallel,
    TensorLayout,
    distribution,
    initialize,
    is_chief,
    list_devices,
    local_rank,
    rank,
    set_distribution,
    size,
)
from gkeras.distribution.tensor_placement import (  # noqa: F401
    distribute_tensor,
    get_device_count,
)
from gkeras.distribution.sync_batch_norm import (  # noqa: F401
    SyncBatchNormalization,
    sync_batch_norm_train,
)
