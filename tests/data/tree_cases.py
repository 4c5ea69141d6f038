"""The `keras.tree` cases of tests/test_tree_and_utils_api.py.

Run as a script with a real Keras to record the expected output:

    KERAS_BACKEND=jax python tests/data/tree_cases.py > tests/data/keras_tree_outputs.txt
"""

import collections


def run(tree, print=print):
    """Runs every case on the `tree` module, printing results."""
    P = collections.namedtuple("P", "x y")
    s = [(1, 2), {"b": 4, "a": [3, None]}, P(5, 6), collections.OrderedDict([("z", 7), ("y", 8)]), collections.deque([9])]
    print(tree.flatten(s))
    print(tree.flatten_with_path(s))
    print(tree.map_structure(lambda v: None if v is None else v * 10, s))
    print(tree.pack_sequence_as(s, list(range(100, 110))))
    print(tree.map_structure_up_to([0, 0], lambda a: str(a), [[1], {"k": 2}]))
    print(tree.lists_to_tuples([1, [2, {"a": [3]}]]))
    print(tree.map_shape_structure(lambda x: len(x), {"a": (None, 3), "b": [(2,)]}))
    v=[]; print(tree.traverse(v.append, [(1, 2), [3], {"a": 4}], top_down=True)); print(v)
    v=[]; print(tree.traverse(v.append, [(1, 2), [3], {"a": 4}], top_down=False)); print(v)
    print(tree.traverse(lambda x: tree.MAP_TO_NONE if x == 3 else None, [1, [3]]))
    print(tree.is_nested(None), tree.is_nested("ab"), tree.is_nested(()), tree.is_nested({}))
    for a, b in [([(0, 1)], [(2, 3)]), ([0, 1], (0, 1)), ({"a": 1}, collections.OrderedDict(a=2)), (P(1,2), (1,2)), ([1], [[1]]), ({"a":1},{"b":1})]:
        try: tree.assert_same_structure(a, b); print("same")
        except ValueError as e: print("VE")
        try: tree.assert_same_paths(a, b); print("psame")
        except ValueError as e: print("pVE")
    for a, b in [([1, 2], [1, [2]]), ([1], (1,)), ({"a": 1}, {"a": 2})]:
        try: print(tree.map_structure(lambda x, y: 0, a, b))
        except (ValueError, TypeError) as e: print(type(e).__name__)
    d = {"b": 1, "a": 2}; print(list(tree.map_structure(lambda x: x, d)))
    print(tree.flatten(None), tree.flatten(3), tree.map_structure(lambda x: x, None, none_is_leaf=False) )


if __name__ == "__main__":
    import keras
    run(keras.tree)
