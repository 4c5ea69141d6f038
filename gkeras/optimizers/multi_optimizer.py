"""`keras.optimizers.OptimizerMap` and `MultiOptimizer`: different
optimizers for different variables."""

import re
from collections.abc import MutableMapping

from gkeras.optimizers.base_optimizer import Optimizer


def _is_loss_scale_optimizer(opt):
    # LossScaleOptimizer comes with mixed precision; recognised by its
    # wrapped optimizer so that this module does not import it.
    return hasattr(opt, "inner_optimizer")


class OptimizerMap(MutableMapping):
    """Maps variable paths (exact, or regular expressions matched in full)
    to optimizers, with a default optimizer for the rest.

    Args:
        default_optimizer: the `Optimizer` of the variables no key matches.
        optimizer_map: optional dict `{path or pattern: Optimizer}`.

    Example:

    >>> m = gkeras.optimizers.OptimizerMap(
    ...     default_optimizer=gkeras.optimizers.SGD(0.1),
    ...     optimizer_map={".*bias": gkeras.optimizers.Adam(1e-3)})
    >>> opt = gkeras.optimizers.MultiOptimizer(m)
    """

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(
                "OptimizerMap: `default_optimizer` must be a Keras Optimizer "
                f"instance. Received: {default_optimizer!r}")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError("OptimizerMap: `optimizer_map` must be a "
                            f"dictionary. Received: {optimizer_map!r}")
        self._default_optimizer = default_optimizer
        self._optimizer_map = dict(optimizer_map or {})

    @property
    def default_optimizer(self):
        """The optimizer of the variables that no key matches."""
        return self._default_optimizer

    def __getitem__(self, key):
        """The optimizer for the variable path `key`: an exact key, else
        the one pattern that matches it in full, else the default."""
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matching = [p for p in self._optimizer_map if re.fullmatch(p, key)]
        if len(matching) > 1:
            raise ValueError(
                f"Multiple optimizers assigned to variable {key}: the "
                f"patterns {matching} all match it.")
        if matching:
            return self._optimizer_map[matching[0]]
        return self._default_optimizer

    def __setitem__(self, key, optimizer):
        if key in self._optimizer_map:
            raise ValueError(
                f"'{key}' already exists in the OptimizerMap with value "
                f"{self._optimizer_map[key]}. Please make sure to not use "
                "duplicated keys.")
        if not isinstance(key, str):
            raise ValueError(f"OptimizerMap: key must be a string. "
                             f"Received: {key!r}")
        if not isinstance(optimizer, Optimizer):
            raise ValueError("OptimizerMap: optimizer must be a Keras "
                             f"Optimizer instance. Received: {optimizer!r}")
        if _is_loss_scale_optimizer(optimizer):
            raise ValueError("optimizer cannot be LossScaleOptimizer.")
        if isinstance(optimizer, MultiOptimizer):
            raise ValueError("optimizer cannot be MultiOptimizer.")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        """The optimizer for `variable` (looked up by its path)."""
        return self[variable.path]

    def get_config(self):
        """Returns the serialized default optimizer and map."""
        from gkeras.optimizers import serialize
        return {
            "default_optimizer": serialize(self._default_optimizer),
            "optimizer_map": {k: serialize(v)
                              for k, v in self._optimizer_map.items()},
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Creates an OptimizerMap from its `get_config()` dict."""
        from gkeras.optimizers import deserialize
        default = deserialize(config["default_optimizer"], custom_objects)
        mapping = {k: deserialize(v, custom_objects)
                   for k, v in (config.get("optimizer_map") or {}).items()}
        return cls(default, mapping)


class MultiOptimizer(Optimizer):
    """Applies a different optimizer to each group of variables.

    Args:
        optimizer_map: an `OptimizerMap`, or a callable that takes a
            variable and returns its `Optimizer`.
        loss_scale_factor: Float; set on every inner optimizer.
        name: String, the name of the optimizer. Defaults to
            `"multi_optimizer"`.

    Its own variables are `iteration` and `learning_rate` (unused, as
    Keras); `variables` lists them followed by every inner optimizer's
    (the layout Keras saves). Its `learning_rate` cannot be read or set:
    use the inner optimizers'.

    Example:

    ```python
    opt = gkeras.optimizers.MultiOptimizer(gkeras.optimizers.OptimizerMap(
        default_optimizer=gkeras.optimizers.SGD(0.1),
        optimizer_map={".*bias": gkeras.optimizers.Adam(1e-3)}))
    model.compile(optimizer=opt, loss="mse")
    ```
    """

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        super().__init__(learning_rate=0.0,
                         loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        self._inner_optimizers = []
        if hasattr(optimizer_map, "values"):
            for opt in optimizer_map.values():
                if opt not in self._inner_optimizers:
                    opt.loss_scale_factor = loss_scale_factor
                    self._inner_optimizers.append(opt)
        default = getattr(optimizer_map, "default_optimizer", None)
        if default is not None and default not in self._inner_optimizers:
            default.loss_scale_factor = loss_scale_factor
            self._inner_optimizers.append(default)

    def build(self, var_list):
        """Assigns each variable to its optimizer and builds each inner
        optimizer on its own variables."""
        if self.built:
            return
        var_list = list(var_list)
        self._var_to_optimizer_idx = {}
        groups = [[] for _ in self._inner_optimizers]
        for var in var_list:
            opt = self._optimizer_map(var)
            if not isinstance(opt, Optimizer):
                raise ValueError(
                    f"MultiOptimizer: the optimizer for variable "
                    f"{getattr(var, 'path', var)} is not an Optimizer "
                    f"instance. Received: {opt!r}")
            if _is_loss_scale_optimizer(opt):
                raise ValueError("LossScaleOptimizer cannot be used inside "
                                 "a MultiOptimizer.")
            if isinstance(opt, MultiOptimizer):
                raise ValueError("MultiOptimizer cannot be used inside a "
                                 "MultiOptimizer.")
            if opt not in self._inner_optimizers:
                opt.loss_scale_factor = self.loss_scale_factor
                self._inner_optimizers.append(opt)
                groups.append([])
            idx = self._inner_optimizers.index(opt)
            self._var_to_optimizer_idx[id(var)] = idx
            groups[idx].append(var)
        for opt, variables in zip(self._inner_optimizers, groups):
            if variables:
                opt.build(variables)
        super().build(var_list)

    @property
    def optimizers(self):
        """The inner optimizers."""
        return self._inner_optimizers

    @property
    def variables(self):
        """Own `iteration` and `learning_rate`, then every inner
        optimizer's variables."""
        out = self._variables[:]
        for opt in self._inner_optimizers:
            out.extend(opt.variables)
        return out

    @property
    def learning_rate(self):
        raise AttributeError(
            "Learning rate cannot be accessed on a MultiOptimizer. Access "
            "the learning rate on the individual sub-optimizers instead.")

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError(
            "Learning rate cannot be set on a MultiOptimizer. Set the "
            "learning rate on the individual sub-optimizers instead.")

    @property
    def loss_scale_factor(self):
        """The loss scale factor (shared with the inner optimizers)."""
        return getattr(self, "_loss_scale_factor", None)

    @loss_scale_factor.setter
    def loss_scale_factor(self, value):
        self._loss_scale_factor = value
        for opt in getattr(self, "_inner_optimizers", ()):
            opt.loss_scale_factor = value

    @property
    def iterations(self):
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Dispatches each gradient to the optimizer of its variable.

        Args:
            grads: list of gradients, one per variable.
            trainable_variables: the variables (optional once built).
        """
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer "
                    "must already be built on a list of variables. Call "
                    "`optimizer.build(trainable_variables)` first.")
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        if len(grads) != len(self._trainable_variables_indices):
            raise ValueError(
                "Gradients must match trainable variables one-to-one. "
                f"Received {len(grads)} gradients and "
                f"{len(self._trainable_variables_indices)} variables.")
        groups = [[] for _ in self._inner_optimizers]
        for grad, var in zip(grads, trainable_variables):
            groups[self._var_to_optimizer_idx[id(var)]].append((grad, var))
        for opt, pairs in zip(self._inner_optimizers, groups):
            if pairs:
                sub_grads, sub_vars = zip(*pairs)
                opt.apply(list(sub_grads), list(sub_vars))
        self._step += 1
        self._iterations.data[...] = self._step

    def finalize_variable_values(self, var_list):
        """Lets each inner optimizer finalize its own variables (EMA)."""
        groups = [[] for _ in self._inner_optimizers]
        for var in var_list:
            groups[self._var_to_optimizer_idx[id(var)]].append(var)
        for opt, variables in zip(self._inner_optimizers, groups):
            if variables:
                opt.finalize_variable_values(variables)

    def set_weights(self, weights):
        """Sets own then inner optimizers' variables, in `variables`
        order."""
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not "
                "yet been built. Please call "
                "`optimizer.build(trainable_variables)` to create the "
                "optimizer weights before calling `set_weights()`.")
        variables = self.variables
        if len(weights) != len(variables):
            raise ValueError(
                f"MultiOptimizer {self.name!r} has {len(variables)} "
                f"variables; received {len(weights)} weights.")
        own = len(self._variables)
        for v, w in zip(self._variables, weights[:own]):
            v.assign(w)
        idx = own
        for opt in self._inner_optimizers:
            n = len(opt.variables)
            if n:
                opt.set_weights(weights[idx:idx + n])
                idx += n
        self._sync_host_state()

    def _sync_host_state(self):
        self._sync_iterations(self._iterations)
        for opt in self._inner_optimizers:
            opt._sync_host_state()

    def get_config(self):
        from gkeras.optimizers import serialize
        if isinstance(self._optimizer_map, OptimizerMap):
            from gkeras.utils import object_registry
            optimizer_map = object_registry.serialize_keras_object(
                self._optimizer_map, "keras.optimizers")
        else:
            optimizer_map = serialize(self._optimizer_map)
        return {"optimizer_map": optimizer_map,
                "loss_scale_factor": self.loss_scale_factor,
                "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        spec = config["optimizer_map"]
        if isinstance(spec, dict) and spec.get("class_name") == \
                "OptimizerMap":
            config["optimizer_map"] = OptimizerMap.from_config(
                spec.get("config", {}), custom_objects)
        else:
            from gkeras.optimizers import deserialize
            config["optimizer_map"] = deserialize(spec, custom_objects)
        return cls(**config)
