"""Executes the tutorial notebooks in place, so they are committed with
their outputs.

Usage (from the repository root):

    python notebooks/execute.py                 # every notebook
    python notebooks/execute.py 01_quickstart   # some of them

Each notebook runs in a fresh Jupyter kernel started from this Python
(so it sees the gkeras installed here), with its own directory as the
working directory and `GKERAS_BACKEND` as set in the environment (the CI
test sets `numpy`). Consecutive stream outputs are merged and carriage
returns resolved, as a notebook front end shows them: the committed file
holds the final progress-bar line of each epoch, not every redraw.
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def notebook_paths(names=None):
    """Returns the paths of the tutorial notebooks, in order.

    Args:
        names: Optional list of notebook names (with or without
            `.ipynb`); default: every `NN_*.ipynb` here.

    Returns:
        A list of absolute paths.
    """
    if names:
        return [os.path.join(HERE, n if n.endswith(".ipynb") else
                             n + ".ipynb") for n in names]
    return sorted(os.path.join(HERE, f) for f in os.listdir(HERE)
                  if f.endswith(".ipynb") and f[:2].isdigit())


def this_python_kernel_manager():
    """Returns a KernelManager whose kernel runs on this very Python.

    A `python3` kernelspec installed elsewhere (a system Jupyter) would
    otherwise win over the virtual environment's ipykernel and run the
    notebooks without the gkeras under test.
    """
    from ipykernel.kernelspec import get_kernel_dict
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import KernelManager

    class _ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            spec = get_kernel_dict()
            return KernelSpec(argv=spec["argv"], language="python",
                              display_name="Python 3", resource_dir="")

    return KernelManager(kernel_name="python3",
                         kernel_spec_manager=_ThisPython())


def execute_notebook(path, timeout=300, coalesce_streams=True,
                     write=False):
    """Runs every cell of a notebook in a fresh kernel.

    Args:
        path: Path of the `.ipynb` file.
        timeout: Seconds allowed per cell.
        coalesce_streams: Merge stream outputs and resolve `\\r`/`\\b` as
            a front end does (False keeps every raw stream message).
        write: Write the executed notebook back to `path`.

    Returns:
        The executed `nbformat.NotebookNode`. A cell that raises makes this
        raise `nbclient.exceptions.CellExecutionError` (with the cell's
        traceback).
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, km=this_python_kernel_manager(), timeout=timeout,
        coalesce_streams=coalesce_streams,
        resources={"metadata": {"path": os.path.dirname(path)}})
    client.execute()
    if write:
        nbformat.write(nb, path)
    return nb


def main(argv=None):
    """Executes the named notebooks (default: all) and writes them back."""
    names = sys.argv[1:] if argv is None else argv
    for path in notebook_paths(names):
        start = time.perf_counter()
        execute_notebook(path, write=True)
        print(f"{os.path.basename(path)}: "
              f"{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
