"""The models drawn by tests/test_model_visualization.py; run as a script
with a real Keras (and pydot) to record Keras's graphs:

    KERAS_BACKEND=jax python tests/data/model_dot_cases.py \
        > tests/data/keras_model_dot.json

Node ids are Python object ids, so a graph is recorded as its node labels
and its edges between labels, with the graph attributes.
"""

import json


def build_models(keras):
    """name -> (model, model_to_dot kwargs)."""
    layers = keras.layers
    a = keras.Input((3,), name="in_a")
    b = keras.Input((2,), name="in_b")
    h = layers.Dense(4, activation="relu", name="d_a")(a)
    c = layers.Concatenate(name="cat")([h, b])
    o1 = layers.Dense(1, name="out1")(c)
    o2 = layers.Dense(2, activation="softmax", name="out2")(c)
    func = keras.Model([a, b], [o1, o2], name="two_io")

    seq = keras.Sequential([keras.Input((5,), name="in_s"),
                            layers.Dense(3, name="s1"),
                            layers.Dropout(0.1, name="s2"),
                            layers.Dense(1, name="s3")], name="seq")

    x = keras.Input((4,), name="outer_in")
    inner_in = keras.Input((4,), name="inner_in")
    inner = keras.Model(inner_in, layers.Dense(2, name="inner_d")(inner_in),
                        name="inner")
    inner.trainable = False
    nested = keras.Model(x, layers.Dense(1, name="head")(inner(x)),
                         name="outer")
    full = dict(show_shapes=True, show_dtype=True,
                show_layer_activations=True, show_trainable=True)
    return {
        "functional": (func, {}),
        "functional_full": (func, dict(full, rankdir="LR", dpi=96)),
        "sequential": (seq, dict(show_shapes=True)),
        "nested": (nested, dict(full)),
        "nested_expanded": (nested, dict(full, expand_nested=True)),
    }


def describe(dot):
    """A JSON-able description of a pydot graph, independent of ids."""
    labels = {}

    def collect(graph):
        for node in graph.get_nodes():
            labels[node.get_name()] = node.get("label")
        for sub in graph.get_subgraphs():
            collect(sub)
    collect(dot)

    def edges(graph):
        out = [[labels.get(e.get_source()), labels.get(e.get_destination())]
               for e in graph.get_edges()]
        for sub in graph.get_subgraphs():
            out += edges(sub)
        return out
    return {"attributes": {k: str(v) for k, v in
                           sorted(dot.get_attributes().items())},
            "nodes": sorted(v for v in labels.values() if v),
            "edges": sorted(edges(dot)),
            "subgraphs": sorted(s.get_name() for s in dot.get_subgraphs())}


if __name__ == "__main__":
    import keras
    out = {}
    for name, (model, kwargs) in build_models(keras).items():
        out[name] = describe(keras.utils.model_to_dot(model, **kwargs))
    print(json.dumps(out, indent=1))
