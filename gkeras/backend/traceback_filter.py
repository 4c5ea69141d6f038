"""Traceback filtering: errors raised inside `fit`, `evaluate` and
`predict` show the user's frames, not gkeras's internals (as Keras does;
`gkeras.config.disable_traceback_filtering()` shows everything)."""

import functools
import os
import traceback
import types

from gkeras.backend.global_settings import is_traceback_filtering_enabled

# The gkeras package directory: frames from files under it are hidden.
_GKERAS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _is_internal(filename):
    return os.path.abspath(filename).startswith(_GKERAS_DIR + os.sep)


def filter_frames(tb):
    """Returns the traceback `tb` without gkeras's frames (the innermost
    frame is kept when every frame is gkeras's, so the error's origin
    stays visible)."""
    frames = list(traceback.walk_tb(tb))
    last = None
    for frame, line_no in reversed(frames):
        if not _is_internal(frame.f_code.co_filename):
            last = types.TracebackType(last, frame, frame.f_lasti, line_no)
    if last is None and frames:
        frame, line_no = frames[-1]
        last = types.TracebackType(None, frame, frame.f_lasti, line_no)
    return last


def filter_traceback(fn):
    """Decorator: filters the traceback of exceptions raised by `fn` while
    traceback filtering is enabled.

    Args:
        fn: the function to wrap.

    Returns:
        The wrapped function.
    """
    @functools.wraps(fn)
    def error_handler(*args, **kwargs):
        if not is_traceback_filtering_enabled():
            return fn(*args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            filtered = filter_frames(e.__traceback__)
            # The exception is re-raised as is (type, message, cause);
            # only the frames it shows change.
            raise e.with_traceback(filtered) from e.__cause__
    return error_handler


__all__ = ["filter_traceback", "filter_frames"]
