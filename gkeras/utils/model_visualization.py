"""`plot_model` and `model_to_dot`: the model's graph drawn with pydot and
Graphviz, as Keras draws it.

pydot is an optional dependency (`pip install gkeras[plot]`, which also
needs the Graphviz `dot` program on the PATH).
"""

import os
import sys

from gkeras import tree


def _pydot():
    try:
        import pydot
    except ImportError:
        pydot = None
    return pydot


def check_pydot():
    """Whether pydot can be imported."""
    return _pydot() is not None


def check_graphviz():
    """Whether pydot and the Graphviz programs are both available."""
    pydot = _pydot()
    if pydot is None:
        return False
    try:
        pydot.Dot.create(pydot.Dot())
        return True
    except (OSError, pydot.PydotException):
        return False


_PYDOT_MISSING = (
    "You must install pydot for `{fn}` to work: `pip install gkeras[plot]` "
    "(or `pip install pydot`), with Graphviz's `dot` program for images.")


def _add_edge(dot, src, dst):
    pydot = _pydot()
    src_id, dst_id = str(id(src)), str(id(dst))
    if not dot.get_edge(src_id, dst_id):
        edge = pydot.Edge(src_id, dst_id)
        edge.set("penwidth", "2")
        dot.add_edge(edge)


def _activation_name(layer):
    act = layer.activation
    if hasattr(act, "name"):
        return act.name
    if hasattr(act, "__name__"):
        return act.__name__
    return str(act)


def _format_shape(shape):
    if shape is None:
        return "?"
    if isinstance(shape, dict):
        text = ", ".join(f"{k}: {v}" for k, v in shape.items())
    else:
        text = f"{shape}"
    return text.replace("}", "").replace("{", "")


def _layer_label(layer, show_layer_names, show_layer_activations,
                 show_dtype, show_shapes, show_trainable):
    """The HTML-like Graphviz label of a layer's box (Keras's layout)."""
    class_name = type(layer).__name__
    table = ('<<table border="0" cellborder="1" bgcolor="black" '
             'cellpadding="10">')
    colspan = max(1, int(show_dtype) + int(show_trainable) +
                  (2 if show_shapes else 0))
    title = f"<b>{layer.name}</b> ({class_name})" if show_layer_names \
        else f"<b>{class_name}</b>"
    table += (f'<tr><td colspan="{colspan}" bgcolor="black">'
              f'<font point-size="16" color="white">{title}</font></td></tr>')
    if show_layer_activations and getattr(layer, "activation",
                                          None) is not None:
        table += (f'<tr><td bgcolor="white" colspan="{colspan}">'
                  '<font point-size="14">'
                  f"Activation: <b>{_activation_name(layer)}</b>"
                  "</font></td></tr>")
    cols = []
    if show_shapes:
        input_shape = output_shape = None
        try:
            input_shape = tree.map_structure(lambda x: tuple(x.shape),
                                             layer.input)
            output_shape = tree.map_structure(lambda x: tuple(x.shape),
                                              layer.output)
        except (ValueError, AttributeError):
            pass
        if class_name != "InputLayer":
            cols.append('<td bgcolor="white"><font point-size="14">'
                        f"Input shape: <b>{_format_shape(input_shape)}</b>"
                        "</font></td>")
        cols.append('<td bgcolor="white"><font point-size="14">'
                    f"Output shape: <b>{_format_shape(output_shape)}</b>"
                    "</font></td>")
    if show_dtype:
        dtype = None
        try:
            dtype = tree.map_structure(lambda x: x.dtype, layer.output)
        except (ValueError, AttributeError):
            pass
        cols.append('<td bgcolor="white"><font point-size="14">'
                    f"Output dtype: <b>{dtype or '?'}</b></font></td>")
    if show_trainable and hasattr(layer, "trainable") and layer.weights:
        if layer.trainable:
            cols.append('<td bgcolor="forestgreen"><font point-size="14" '
                        'color="white"><b>Trainable</b></font></td>')
        else:
            cols.append('<td bgcolor="firebrick"><font point-size="14" '
                        'color="white"><b>Non-trainable</b></font></td>')
    if cols:
        table += f"<tr>{''.join(cols)}</tr>"
    return table + "</table>>"


def _make_node(layer, **options):
    node = _pydot().Node(str(id(layer)), label=_layer_label(layer,
                                                            **options))
    node.set("fontname", "Helvetica")
    node.set("border", "0")
    node.set("margin", "0")
    return node


def model_to_dot(model, show_shapes=False, show_dtype=False,
                 show_layer_names=True, rankdir="TB", expand_nested=False,
                 dpi=200, subgraph=False, show_layer_activations=False,
                 show_trainable=False, splines="ortho", **kwargs):
    """Converts a model to a `pydot.Dot` graph, as Keras draws it.

    Args:
        model: a built model.
        show_shapes: show each layer's input and output shapes.
        show_dtype: show each layer's output dtype.
        show_layer_names: show layer names.
        rankdir: `"TB"` (vertical) or `"LR"` (horizontal).
        expand_nested: draw nested models as clusters of their layers.
        dpi: image resolution.
        subgraph: return a `pydot.Cluster` (used for nested models).
        show_layer_activations: show the `activation` of layers having one.
        show_trainable: mark layers with weights (non-)trainable.
        splines: Graphviz edge style (`"ortho"`, `"curved"`, ...).

    Returns:
        A `pydot.Dot` (or `pydot.Cluster` with `subgraph=True`).

    Raises:
        ImportError: without pydot (install the `plot` extra).
    """
    from gkeras.models.functional import Functional
    from gkeras.models.sequential import Sequential
    if not model.built:
        raise ValueError(
            "This model has not yet been built. Build the model first by "
            "calling `build()` or by calling the model on a batch of data.")
    pydot = _pydot()
    if pydot is None:
        raise ImportError(_PYDOT_MISSING.format(fn="model_to_dot"))
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot()
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set("splines", splines)
        dot.set_node_defaults(shape="record")
    options = {"show_layer_names": show_layer_names,
               "show_layer_activations": show_layer_activations,
               "show_dtype": show_dtype, "show_shapes": show_shapes,
               "show_trainable": show_trainable}
    nested = (Functional, Sequential)
    if isinstance(model, Sequential):
        layers = model.layers
    elif not isinstance(model, Functional):
        dot.add_node(_make_node(model, **options))  # subclassed: one box
        return dot
    else:
        layers = model._operations
    for layer in layers:
        if expand_nested and isinstance(layer, nested):
            dot.add_subgraph(model_to_dot(
                layer, show_shapes, show_dtype, show_layer_names, rankdir,
                expand_nested, subgraph=True,
                show_layer_activations=show_layer_activations,
                show_trainable=show_trainable))
        else:
            dot.add_node(_make_node(layer, **options))
    if isinstance(model, Sequential):
        if not expand_nested:
            for a, b in zip(layers[:-1], layers[1:]):
                _add_edge(dot, a, b)
            return dot
        # The first layer's incoming edge is drawn from outside.
        layers = model.layers[1:]
    model_nodes = {id(n) for n in getattr(model, "_nodes", [])}
    for layer in layers:
        for node in layer._inbound_nodes:
            if isinstance(model, Functional) and id(node) not in model_nodes:
                continue  # a call outside this model
            for input_index, tensor in enumerate(node.input_tensors):
                history = tensor._keras_history
                if history is None or history.operation is None:
                    continue
                source, output_index = history.operation, history[2]
                destination = layer
                if not expand_nested:
                    _add_edge(dot, source, layer)
                    continue
                while isinstance(source, nested):
                    source, _, output_index = \
                        source.outputs[output_index]._keras_history
                while isinstance(destination, nested):
                    if isinstance(destination, Functional):
                        destination = destination.inputs[
                            input_index]._keras_history.operation
                    else:
                        destination = destination.layers[0]
                _add_edge(dot, source, destination)
    return dot


def plot_model(model, to_file="model.png", show_shapes=False,
               show_dtype=False, show_layer_names=False, rankdir="TB",
               expand_nested=False, dpi=200, show_layer_activations=False,
               show_trainable=False, splines="ortho", **kwargs):
    """Draws the model's graph to an image file (Keras's `plot_model`).

    Args:
        model: a built model.
        to_file: the image path; its extension picks the format (`.png`,
            `.pdf`, `.svg`, `.dot`...).
        show_shapes, show_dtype, show_layer_names, rankdir, expand_nested,
        dpi, show_layer_activations, show_trainable, splines: as
            `model_to_dot`.

    Returns:
        An `IPython.display.Image` of the file when IPython is installed
        and the format is a raster one (png, jpg, gif), else None.

    Raises:
        ImportError: without pydot or Graphviz (install the `plot` extra
            and Graphviz).

    Example:

    ```python
    gkeras.utils.plot_model(model, "model.png", show_shapes=True)
    ```
    """
    from gkeras.utils.progbar import print_msg
    if not model.built:
        raise ValueError(
            "This model has not yet been built. Build the model first by "
            "calling `build()` or by calling the model on a batch of data.")
    in_notebook = "IPython.core.magics.namespace" in sys.modules
    for ok, message in (
            (check_pydot(), _PYDOT_MISSING.format(fn="plot_model")),
            (check_graphviz(),
             "You must install Graphviz (its `dot` program on the PATH; "
             "e.g. `apt-get install graphviz`) for `plot_model` to work.")):
        if not ok:
            if in_notebook:  # as Keras: a message, not a crashed notebook
                print_msg(message)
                return None
            raise ImportError(message)
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir,
                       expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable, splines=splines)
    to_file = str(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    dot.write(to_file, format=extension)
    # Keras returns an Image for every format but PDF; IPython can only
    # embed raster images, so other formats (svg, dot...) return None.
    if extension.lower() in ("png", "jpg", "jpeg", "gif"):
        try:
            from IPython import display
            return display.Image(filename=to_file)
        except ImportError:
            pass
    return None


__all__ = ["plot_model", "model_to_dot"]
