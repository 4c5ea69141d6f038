"""Small datasets for examples and tests, as `keras.datasets` has them.

`digits` ships inside gkeras and works offline. The others are downloaded
on first use from the same public URLs Keras uses, checked against the
same hashes, and cached in `~/.gkeras/datasets/` (or
`$GKERAS_HOME/datasets/`). Without network, put the file there by hand: the
error message says exactly where. Each module has an `ORIGIN_FOLDER`
attribute that can be pointed at a mirror.
"""

from gkeras.datasets import boston_housing
from gkeras.datasets import california_housing
from gkeras.datasets import cifar10
from gkeras.datasets import cifar100
from gkeras.datasets import digits
from gkeras.datasets import fashion_mnist
from gkeras.datasets import imdb
from gkeras.datasets import mnist
from gkeras.datasets import reuters

__all__ = [
    "boston_housing",
    "california_housing",
    "cifar10",
    "cifar100",
    "digits",
    "fashion_mnist",
    "imdb",
    "mnist",
    "reuters",
]
