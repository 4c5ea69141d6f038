"""`model.summary()`: Keras 3's table of layers, shapes and parameters."""

import re
import shutil

from gkeras.ops.symbolic import flatten

_DTYPE_BYTES = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8,
                "int8": 1, "uint8": 1, "int16": 2, "int32": 4, "int64": 8,
                "bool": 1}


def _count(weights):
    total = 0
    for w in {id(w): w for w in weights}.values():
        n = 1
        for s in w.shape:
            n *= int(s)
        total += n
    return total


def _memory(weights):
    total = 0
    for w in {id(w): w for w in weights}.values():
        n = 1
        for s in w.shape:
            n *= int(s)
        total += n * _DTYPE_BYTES.get(str(w.dtype), 4)
    return total


def readable_memory_size(size):
    """`435.12 KB` style size (powers of 1024)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _fmt_shape(shape):
    return "(" + ", ".join("None" if s is None else str(s)
                           for s in shape) + ")"


def format_layer_shape(layer):
    """The output shape column for a layer ("?" when unknown)."""
    nodes = getattr(layer, "_inbound_nodes", [])
    if nodes:
        outs = nodes[-1].output_structure
        if hasattr(outs, "shape"):
            return _fmt_shape(outs.shape)
        flat = [_fmt_shape(t.shape) for t in flatten(outs)]
        if isinstance(outs, dict):
            return "{" + ", ".join(f"{k}: {s}" for k, s in zip(outs, flat)) \
                + "}"
        return "[" + ", ".join(flat) + "]"
    return "?"


def _wrap(text, width):
    """Splits `text` into lines of at most `width` characters."""
    if len(text) <= width:
        return [text]
    lines, cur = [], ""
    for part in re.split(r"(?<=[ ,])", text):
        while len(part) > width:
            if cur:
                lines.append(cur)
                cur = ""
            lines.append(part[:width])
            part = part[width:]
        if len(cur) + len(part) > width:
            lines.append(cur.rstrip())
            cur = part
        else:
            cur += part
    if cur:
        lines.append(cur.rstrip())
    return lines


def _render(header, rows, widths, aligns):
    def line(left, mid, right, fill):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def cells(values, sep):
        wrapped = [_wrap(str(v), w) for v, w in zip(values, widths)]
        height = max(len(c) for c in wrapped)
        out = []
        for i in range(height):
            parts = []
            for c, w, a in zip(wrapped, widths, aligns):
                t = c[i] if i < len(c) else ""
                parts.append(" " + (t.rjust(w) if a == "right" else
                                    t.center(w) if a == "center"
                                    else t.ljust(w)) + " ")
            out.append(sep + sep.join(parts) + sep)
        return out

    out = [line("┏", "┳", "┓", "━")]
    out += cells(header, "┃")
    out.append(line("┡", "╇", "┩", "━"))
    for i, r in enumerate(rows):
        out += cells(r, "│")
        out.append(line("├", "┼", "┤", "─") if i < len(rows) - 1
                   else line("└", "┴", "┘", "─"))
    if not rows:
        out.append(line("└", "┴", "┘", "─"))
    return out


def _sequential_like(model):
    from gkeras.models.functional import Functional
    from gkeras.models.sequential import Sequential
    if isinstance(model, Sequential) or not isinstance(model, Functional):
        return True
    for node in model._nodes:
        if len(node.input_tensors) > 1:
            return False
    seen = set()
    for node in model._nodes:
        if id(node.operation) in seen:
            return False
        seen.add(id(node.operation))
    return True


def print_summary(model, line_length=None, positions=None, print_fn=None,
                  expand_nested=False, show_trainable=False,
                  layer_range=None):
    """Prints the summary table of `model` (see `Model.summary`)."""
    from gkeras.models.functional import Functional
    from gkeras.models.sequential import Sequential
    if isinstance(model, Sequential) and not model.built and model.layers \
            and not any(l.built for l in model.layers):
        raise ValueError(
            "This model has not yet been built. Build the model first by "
            "calling `build()` or by calling the model on a batch of data.")
    if isinstance(model, Functional) and not isinstance(model, Sequential):
        layers = list(model._operations)
    else:
        layers = model.layers
    seq = _sequential_like(model)
    if seq:
        default_len = 88
        positions = positions or [0.45, 0.80, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
        aligns = ["left", "left", "right"]
    else:
        default_len = 108
        positions = positions or [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        aligns = ["left", "left", "right", "left"]
    if show_trainable:
        default_len += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        aligns.append("center")
    default_len = min(default_len, shutil.get_terminal_size().columns - 4)
    line_length = line_length or default_len
    if positions[-1] <= 1:
        positions = [int(p * line_length) for p in positions]
    widths, cur = [], 0
    for i, pos in enumerate(positions):
        w = pos - cur
        cur = pos
        # The box's borders and padding take 3 characters per column.
        widths.append(max(w - 3 - (1 if i == 0 else 0), 4))
    net_nodes = {id(n) for n in getattr(model, "_nodes", [])}

    def connections(layer):
        parts = []
        for node in getattr(layer, "_inbound_nodes", []):
            if net_nodes and id(node) not in net_nodes:
                continue
            for kt in node.input_tensors:
                op, ni, ti = kt._keras_history
                parts.append(f"{op.name}[{ni}][{ti}]")
        return ", ".join(parts) or "-"

    def fields(layer, prefix=""):
        name = f"{prefix}{layer.name} ({type(layer).__name__})"
        if not getattr(layer, "built", True):
            params = "0 (unbuilt)"
        else:
            try:
                params = f"{layer.count_params():,}"
            except ValueError:
                params = "0 (unbuilt)"
        row = [name, format_layer_shape(layer), params]
        if not seq:
            row.append(connections(layer))
        if show_trainable:
            row.append(("Y" if layer.trainable else "N")
                       if getattr(layer, "weights", []) else "-")
        return row

    def rows_for(layer, level=0):
        prefix = "   " * level + "└ " if level else ""
        rows = [fields(layer, prefix)]
        if expand_nested and hasattr(layer, "layers") and layer.layers:
            for sub in layer.layers:
                rows.extend(rows_for(sub, level + 1))
        return rows

    lo, hi = _layer_bounds(layers, layer_range)
    rows = []
    for layer in layers[lo:hi]:
        rows.extend(rows_for(layer))
    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    t_count, nt_count = _count(trainable), _count(non_trainable)
    t_mem, nt_mem = _memory(trainable), _memory(non_trainable)
    opt = getattr(model, "optimizer", None)
    opt_vars = list(getattr(opt, "variables", []) or []) if opt is not None \
        and getattr(opt, "built", False) else []
    o_count, o_mem = _count(opt_vars), _memory(opt_vars)
    lines = [f'Model: "{model.name}"']
    lines += _render(header, rows, widths, aligns)
    lines.append(f" Total params: {t_count + nt_count + o_count:,} "
                 f"({readable_memory_size(t_mem + nt_mem + o_mem)})")
    lines.append(f" Trainable params: {t_count:,} "
                 f"({readable_memory_size(t_mem)})")
    lines.append(f" Non-trainable params: {nt_count:,} "
                 f"({readable_memory_size(nt_mem)})")
    if opt_vars:
        lines.append(f" Optimizer params: {o_count:,} "
                     f"({readable_memory_size(o_mem)})")
    if print_fn is None:
        from gkeras.backend.global_settings import \
            is_interactive_logging_enabled
        if not is_interactive_logging_enabled():
            from gkeras.utils.progbar import print_msg
            print_fn = print_msg
    if print_fn is None:
        print("\n".join(lines))
    else:
        for ln in lines:
            print_fn(ln)


def _layer_bounds(layers, layer_range):
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2 or not all(isinstance(s, str)
                                        for s in layer_range):
        raise ValueError("layer_range must be a list or tuple of 2 strings. "
                         f"Received: layer_range={layer_range}")
    lo = [i for i, l in enumerate(layers) if re.match(layer_range[0], l.name)]
    hi = [i for i, l in enumerate(layers) if re.match(layer_range[1], l.name)]
    if not lo or not hi:
        raise ValueError("Passed layer_names do not match the layer names in "
                         f"the model. Received: {layer_range}")
    if min(lo) > max(hi):
        return min(hi), max(lo) + 1
    return min(lo), max(hi) + 1
