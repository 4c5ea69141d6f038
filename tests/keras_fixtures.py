"""Where the Keras reference fixtures live, and which cases they hold.

The tests read the copy under `tests/fixtures/keras/` so that a bare clone
of the repository passes its tests. The files come from
`../shared/fixtures/keras/` (made by the real Keras with its `gen.py`);
`test_fixture_copy_matches_shared` checks that the copy has not drifted
from that folder where it sits beside the checkout.
"""

import json
import os

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "fixtures", "keras")

SHARED_FIXTURES = os.path.normpath(os.path.join(
    os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir,
    "shared", "fixtures", "keras"))


def manifest_cases(folder=FIXTURES):
    """The manifest's case entries (dicts) of a fixture folder."""
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    return manifest["cases"] if isinstance(manifest, dict) else manifest


def case_names(folder=FIXTURES, mixed=None):
    """The case names the manifest of `folder` lists, in its order.

    `mixed=False` leaves out the mixed precision cases (those with a
    `dtype_policy`: their tolerances differ, see tests/
    test_mixed_precision.py), `mixed=True` keeps only them.
    """
    return [c["case"] for c in manifest_cases(folder)
            if mixed is None or bool(c.get("dtype_policy")) == mixed]


def fixture_path(name):
    """The path of one fixture file in the in-repository copy."""
    return os.path.join(FIXTURES, name)
