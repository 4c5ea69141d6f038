"""`Progbar`: the Keras progress bar (terminal and Jupyter)."""

import math
import os
import sys
import time

import numpy as np


def _dynamic_display():
    """True where a bar can redraw in place: a terminal, Jupyter, PyCharm.
    Elsewhere (a file, a pipe, CI logs) only the final line of each bar is
    printed."""
    out = sys.stdout
    return bool((hasattr(out, "isatty") and out.isatty())
                or "ipykernel" in sys.modules
                or "PYCHARM_HOSTED" in os.environ)


def print_msg(message, line_break=True):
    """Writes `message` to stdout and flushes (so notebooks update live),
    or, with interactive logging disabled
    (`gkeras.config.disable_interactive_logging()`), logs it at INFO level
    to the `"gkeras"` logger."""
    from gkeras.backend.global_settings import is_interactive_logging_enabled
    if not is_interactive_logging_enabled():
        import logging
        logging.getLogger("gkeras").info(message)
        return
    sys.stdout.write(message + ("\n" if line_break else ""))
    sys.stdout.flush()


class Progbar:
    """Displays a progress bar, as Keras 3 prints it.

    `32/32 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - accuracy: 0.9100 - loss: 0.3000`

    Args:
        target: total number of steps expected, None if unknown.
        width: bar width in characters.
        verbose: 0 (silent), 1 (animated bar; where stdout is neither a
            terminal nor Jupyter, only the bar's final line), 2 (one line
            when done).
        interval: minimum seconds between redraws.
        stateful_metrics: names of values shown as given (not averaged).
        unit_name: name of a step (`"step"` or `"sample"`).
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05,
                 stateful_metrics=None, unit_name="step"):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics or ())
        self._dynamic = _dynamic_display()
        self._seen = 0
        self._sums = {}
        self._order = []
        self._start = time.time()
        self._last_draw = 0.0
        self._after_first = None
        self._prev_width = 0

    def update(self, current, values=None, finalize=None):
        """Updates the bar.

        Args:
            current: index of the current step.
            values: list of `(name, value)`; values are averaged over steps
                unless their name is in `stateful_metrics`.
            finalize: whether this is the last update (default: when
                `current >= target`).
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or []:
            if name not in self._order:
                self._order.append(name)
            value = float(np.mean(value)) if not isinstance(
                value, (int, float)) else float(value)
            if name in self.stateful_metrics or finalize:
                self._sums[name] = [value, 1]
            else:
                w = max(current - self._seen, 1)
                acc = self._sums.setdefault(name, [0.0, 0])
                acc[0] += value * w
                acc[1] += w
        self._seen = current
        now = time.time()
        per_step = self._step_time(current, now)
        if self.verbose == 1:
            if not finalize and (not self._dynamic or
                                 now - self._last_draw < self.interval):
                return
            self._draw(current, now, per_step, finalize)
        elif self.verbose == 2 and finalize and self.target:
            digits = int(math.log10(self.target)) + 1
            line = f"{current:{digits}d}/{self.target} - " \
                   f"{now - self._start:.0f}s -" \
                   f"{_fmt_time(per_step, self.unit_name)}"
            line += self._values_text()
            print_msg(line)
        self._last_draw = now

    def _values_text(self):
        text = ""
        for name in self._order:
            total, count = self._sums[name]
            avg = total / max(1, count)
            text += f" - {name}: " + (f"{avg:.4f}" if abs(avg) > 1e-3
                                      else f"{avg:.4e}")
        return text

    def _draw(self, current, now, per_step, finalize):
        if self.target is not None and self.target > 0:
            digits = int(math.log10(self.target)) + 1
            count = f"{current:{digits}d}/{self.target}"
            done = int(self.width * float(current) / self.target)
            done = min(done, self.width)
            plain_bar = count + " " + "━" * self.width
            bar = f"\x1b[1m{count}\x1b[0m "
            if done > 0:
                bar += f"\x1b[32m{'━' * done}\x1b[0m"
            bar += f"\x1b[37m{'━' * (self.width - done)}\x1b[0m"
        else:
            plain_bar = bar = f"{current:7d}/Unknown"
        if self.target and not finalize:
            eta = per_step * (self.target - current)
            if eta > 3600:
                eta_text = "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60,
                                             eta % 60)
            elif eta > 60:
                eta_text = "%d:%02d" % (eta // 60, eta % 60)
            else:
                eta_text = "%ds" % eta
        else:
            eta_text = f"{now - self._start:.0f}s"
        info_plain = f" {eta_text}" + _fmt_time(per_step, self.unit_name) + \
            self._values_text()
        info = f" \x1b[1m{eta_text}\x1b[0m" + _fmt_time(
            per_step, self.unit_name) + self._values_text()
        width = len(plain_bar) + len(info_plain)
        # "\r" redraws in place in terminals and notebooks; piped output
        # (logs, CI) gets only the final line, written once.
        msg = ("\r" if self._dynamic else "") + bar + info
        if self._dynamic and self._prev_width > width:
            msg += " " * (self._prev_width - width)
        if finalize:
            msg += "\n"
        print_msg(msg, line_break=False)
        self._prev_width = width

    def add(self, n, values=None):
        """Advances the bar by `n` steps."""
        self.update(self._seen + n, values)

    def _step_time(self, current, now):
        if not current:
            return 0.0
        if self._after_first is not None and current > 1:
            t = (now - self._after_first) / (current - 1)
        else:
            t = (now - self._start) / current
        if current == 1:
            self._after_first = now
        return t


def _fmt_time(seconds, unit):
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit}"
    return f" {seconds * 1e6:.0f}us/{unit}"
