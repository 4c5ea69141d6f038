"""`gkeras.tree`: utilities for nested structures (Keras 3's `keras.tree`).

A structure is a leaf or a container of structures: `list`, `tuple`,
`namedtuple`, `dict` (and `OrderedDict`, `defaultdict`) and
`collections.deque`. Everything else is a leaf, `None` included. As in
Keras (optree), a `dict` is flattened in sorted key order, an `OrderedDict`
in its own order, and rebuilt dicts keep the original key order.
"""

import collections
import warnings

__all__ = ["MAP_TO_NONE", "assert_same_paths", "assert_same_structure",
           "flatten", "flatten_with_path", "is_nested", "lists_to_tuples",
           "map_shape_structure", "map_structure", "map_structure_up_to",
           "pack_sequence_as", "traverse"]


class MAP_TO_NONE:
    """Returned by a `traverse` function to replace a sub-tree by `None`."""


def _is_namedtuple(x):
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _dict_keys(d):
    if isinstance(d, collections.OrderedDict):
        return list(d)
    try:
        return sorted(d)
    except TypeError:  # keys that do not sort: insertion order
        return list(d)


def _node(x, none_is_leaf=True):
    """`(kind, keys, children, rebuild)` of a container, None for a leaf."""
    if x is None and not none_is_leaf:
        return ("none", [], [], lambda c: None)
    if isinstance(x, list):
        return ("list", list(range(len(x))), list(x), list)
    if _is_namedtuple(x):
        cls = type(x)
        return (cls, list(range(len(x))), list(x), lambda c: cls(*c))
    if isinstance(x, tuple):
        return ("tuple", list(range(len(x))), list(x), tuple)
    if isinstance(x, dict):
        keys = _dict_keys(x)

        def rebuild(children, x=x, keys=keys):
            by_key = dict(zip(keys, children))
            if isinstance(x, collections.defaultdict):
                out = collections.defaultdict(x.default_factory)
            elif isinstance(x, collections.OrderedDict):
                out = type(x)()
            else:
                try:
                    out = type(x)()
                except TypeError:
                    out = {}
            for k in x:
                out[k] = by_key[k]
            return out
        return ("dict", keys, [x[k] for k in keys], rebuild)
    if isinstance(x, collections.deque):
        maxlen = x.maxlen
        return ("deque", list(range(len(x))), list(x),
                lambda c: collections.deque(c, maxlen=maxlen))
    return None


def is_nested(structure):
    """Whether `structure` is a container (list, tuple, dict, ...).

    Args:
        structure: any value.

    Returns:
        True for a container, False for a leaf (`None` included).

    Example:
    >>> gkeras.tree.is_nested([1]), gkeras.tree.is_nested(1)
    (True, False)
    """
    return _node(structure) is not None


def flatten(structure):
    """Returns the leaves of `structure`, depth first.

    Dicts give their values in sorted key order.

    Args:
        structure: a nested structure.

    Returns:
        A list of leaves (`[structure]` for a leaf).

    Example:
    >>> gkeras.tree.flatten([(1, 2), {"b": 4, "a": 3}, None])
    [1, 2, 3, 4, None]
    """
    out = []
    _flatten_into(structure, out, True)
    return out


def _flatten_into(x, out, none_is_leaf):
    node = _node(x, none_is_leaf)
    if node is None:
        out.append(x)
        return
    for child in node[2]:
        _flatten_into(child, out, none_is_leaf)


def flatten_with_path(structure):
    """Returns `(path, leaf)` pairs, a path being the tuple of keys and
    indices leading to the leaf.

    Args:
        structure: a nested structure.

    Returns:
        A list of `(path, leaf)`.

    Example:
    >>> gkeras.tree.flatten_with_path({"a": [1, 2]})
    [(('a', 0), 1), (('a', 1), 2)]
    """
    out = []

    def walk(x, path):
        node = _node(x)
        if node is None:
            out.append((path, x))
            return
        for key, child in zip(node[1], node[2]):
            walk(child, path + (key,))
    walk(structure, ())
    return out


def _mismatch():
    return ValueError("Structures don't have the same nested structure.")


def _same_node(a, b):
    return a[0] == b[0] and a[1] == b[1]


def map_structure(func, *structures, none_is_leaf=True):
    """Applies `func` to the leaves of one or more same-shaped structures.

    Args:
        func: a callable taking one leaf from each structure.
        *structures: nested structures, all with the same nesting.
        none_is_leaf: whether `None` is a leaf passed to `func` (default)
            or an empty container left as `None`.

    Returns:
        A structure like the first, holding `func`'s results.

    Raises:
        ValueError: when the structures are nested differently.

    Example:
    >>> gkeras.tree.map_structure(lambda a, b: a + b, [1, (2,)], [10, (20,)])
    [11, (22,)]
    """
    if not structures:
        raise ValueError("Must provide at least one structure")

    def walk(xs):
        node = _node(xs[0], none_is_leaf)
        if node is None:
            if len(xs) > 1 and any(_node(x, none_is_leaf) is not None
                                   for x in xs[1:]):
                raise _mismatch()
            return func(*xs)
        others = [_node(x, none_is_leaf) for x in xs[1:]]
        if any(o is None or not _same_node(node, o) for o in others):
            raise _mismatch()
        children = [walk([node[2][i]] + [o[2][i] for o in others])
                    for i in range(len(node[2]))]
        return node[3](children)
    return walk(list(structures))


def map_structure_up_to(shallow_structure, func, *structures):
    """Like `map_structure`, but only down to the leaves of
    `shallow_structure`: deeper parts of `structures` are passed to `func`
    whole.

    Args:
        shallow_structure: a structure that is a prefix of each structure.
        func: a callable taking one sub-structure from each structure.
        *structures: nested structures.

    Returns:
        A structure like `shallow_structure`.

    Example:
    >>> gkeras.tree.map_structure_up_to([0, 0], len, [[1], [2, 3]])
    [1, 2]
    """
    if not structures:
        raise ValueError("Must provide at least one structure")

    def walk(shallow, xs):
        node = _node(shallow)
        if node is None:
            return func(*xs)
        others = [_node(x) for x in xs]
        if any(o is None or not _same_node(node, o) for o in others):
            raise _mismatch()
        return node[3]([walk(node[2][i], [o[2][i] for o in others])
                        for i in range(len(node[2]))])
    return walk(shallow_structure, list(structures))


def _same_kind(a, b):
    if a[0] == "dict" or b[0] == "dict":
        return a[0] == b[0] and set(a[1]) == set(b[1])
    return a[0] == b[0] and a[1] == b[1]


def assert_same_structure(a, b, check_types=None):
    """Raises a ValueError unless `a` and `b` are nested the same way.

    Lists, tuples, namedtuples and deques must match in type; dicts,
    OrderedDicts and defaultdicts match when their keys do.

    Args:
        a: a nested structure.
        b: a nested structure.
        check_types: deprecated, without effect (as in Keras 3).

    Example:
    >>> gkeras.tree.assert_same_structure([(0, 1)], [(2, 3)])
    """
    if check_types is not None:
        warnings.warn("The `check_types` argument is deprecated and no "
                      "longer has any effect, please remove.",
                      DeprecationWarning, stacklevel=2)

    def walk(x, y):
        nx, ny = _node(x), _node(y)
        if nx is None and ny is None:
            return
        if nx is None or ny is None or not _same_kind(nx, ny):
            raise ValueError(
                "The two structures don't have the same nested structure. "
                f"First structure: {a!r:.200}, second structure: "
                f"{b!r:.200}.")
        by_key = dict(zip(ny[1], ny[2]))
        for key, child in zip(nx[1], nx[2]):
            walk(child, by_key[key])
    walk(a, b)


def assert_same_paths(a, b):
    """Raises a ValueError unless `a` and `b` have the same leaf paths
    (lists, tuples and namedtuples count as the same).

    Args:
        a: a nested structure.
        b: a nested structure.

    Example:
    >>> gkeras.tree.assert_same_paths([0, 1], (2, 3))
    """
    a_paths = {p for p, _ in flatten_with_path(a)}
    b_paths = {p for p, _ in flatten_with_path(b)}
    if a_paths != b_paths:
        msg = "`a` and `b` don't have the same paths."
        if a_paths - b_paths:
            msg += f"\nPaths in `a` missing in `b`:\n{a_paths - b_paths}"
        if b_paths - a_paths:
            msg += f"\nPaths in `b` missing in `a`:\n{b_paths - a_paths}"
        raise ValueError(msg)


def pack_sequence_as(structure, flat_sequence):
    """Packs `flat_sequence` into the nesting of `structure`.

    Args:
        structure: a nested structure.
        flat_sequence: as many leaves as `flatten(structure)` gives.

    Returns:
        `flat_sequence` nested like `structure`.

    Example:
    >>> gkeras.tree.pack_sequence_as({"b": [0, 0], "a": 0}, [1, 2, 3])
    {'b': [2, 3], 'a': 1}
    """
    flat = list(flat_sequence)
    n = len(flatten(structure))
    if len(flat) != n:
        raise ValueError(
            f"Could not pack sequence: `structure` has {n} leaves, "
            f"`flat_sequence` has {len(flat)} elements.")
    it = iter(flat)

    def walk(x):
        node = _node(x)
        if node is None:
            return next(it)
        return node[3]([walk(c) for c in node[2]])
    return walk(structure)


def traverse(func, structure, top_down=True):
    """Applies `func` to every sub-structure, depth first.

    Top down, a non-None result of `func(subtree)` replaces the sub-tree
    and stops the descent; bottom up, it replaces the already traversed
    sub-tree. Return `MAP_TO_NONE` to replace a sub-tree by `None`.

    Args:
        func: a callable on sub-structures.
        structure: a nested structure.
        top_down: visit parents before children (default).

    Returns:
        The traversed structure.

    Example:
    >>> v = []
    >>> gkeras.tree.traverse(v.append, [(1, 2), [3]], top_down=False)
    [(1, 2), [3]]
    >>> v
    [1, 2, (1, 2), 3, [3], [(1, 2), [3]]]
    """
    if not callable(func):
        raise TypeError(f"`func` must be callable. Received: {func!r}")

    def children():
        node = _node(structure)
        if node is None:
            return structure
        return node[3]([traverse(func, c, top_down=top_down)
                        for c in node[2]])

    if top_down:
        ret = func(structure)
        if ret is None:
            return children()
    else:
        traversed = children()
        ret = func(traversed)
        if ret is None:
            return traversed
    return None if ret is MAP_TO_NONE else ret


def lists_to_tuples(structure):
    """Returns `structure` with every list turned into a tuple.

    Example:
    >>> gkeras.tree.lists_to_tuples([1, [2, {"a": [3]}]])
    (1, (2, {'a': (3,)}))
    """
    return traverse(lambda x: tuple(x) if isinstance(x, list) else None,
                    structure, top_down=False)


def map_shape_structure(func, structure):
    """Like `map_structure`, but tuples/lists of ints and None (shapes)
    are leaves.

    Example:
    >>> gkeras.tree.map_shape_structure(len, {"a": (None, 3), "b": [(2,)]})
    {'a': 2, 'b': [1]}
    """
    def is_shape(x):
        return isinstance(x, (list, tuple)) and all(
            isinstance(e, (int, type(None))) for e in x)

    def walk(x):
        if is_shape(x):
            return func(x)
        node = _node(x)
        if node is None:
            return func(x)
        return node[3]([walk(c) for c in node[2]])
    return walk(structure)
