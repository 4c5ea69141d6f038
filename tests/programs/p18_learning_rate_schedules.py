"""Learning-rate schedules: built-in schedules passed as `learning_rate`,
a `LearningRateSchedule` subclass (the Transformer warm-up schedule),
and the `LearningRateScheduler` callback; the rates applied are checked
against their formulas and an SGD step against NumPy.

Sources: keras.io/api/optimizers/learning_rate_schedules,
keras.io/examples/nlp/neural_machine_translation_with_transformer
(CustomSchedule), keras.io/api/callbacks/learning_rate_scheduler.
Changed: `keras` -> `gkeras`; small data.
"""
import math

import numpy as np

import gkeras as keras
from gkeras import ops

keras.utils.set_random_seed(9)
rng = np.random.default_rng(9)
x = rng.random((64, 5)).astype("float32")
y = (x @ rng.normal(size=(5, 1))).astype("float32")

initial_learning_rate = 0.1
lr_schedule = keras.optimizers.schedules.ExponentialDecay(
    initial_learning_rate, decay_steps=4, decay_rate=0.5, staircase=True)
for step, want in [(0, 0.1), (3, 0.1), (4, 0.05), (9, 0.025)]:
    np.testing.assert_allclose(float(lr_schedule(step)), want, rtol=1e-6)
optimizer = keras.optimizers.SGD(learning_rate=lr_schedule)

model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(1)])
model.compile(optimizer=optimizer, loss="mse")
# Step by step: each update uses the schedule's rate at that iteration.
for step in range(6):
    w0, b0 = [v.astype("float64") for v in model.get_weights()]
    model.train_on_batch(x, y)
    g = 2 * (x @ w0 + b0 - y) / len(x)
    lr = 0.1 * 0.5 ** (step // 4)
    np.testing.assert_allclose(model.get_weights()[0], w0 - lr * x.T @ g,
                               rtol=1e-4, atol=1e-7)
assert int(optimizer.iterations.numpy()) == 6
np.testing.assert_allclose(float(ops.convert_to_numpy(
    optimizer.learning_rate)), 0.05, rtol=1e-6)

boundaries = [10, 20]
values = [1.0, 0.5, 0.1]
piecewise = keras.optimizers.schedules.PiecewiseConstantDecay(boundaries,
                                                              values)
np.testing.assert_allclose([float(piecewise(s)) for s in (0, 10, 11, 20, 21)],
                           [1.0, 1.0, 0.5, 0.5, 0.1], rtol=1e-6)

cosine = keras.optimizers.schedules.CosineDecay(
    0.0, decay_steps=10, warmup_target=0.1, warmup_steps=5)
np.testing.assert_allclose(float(cosine(0)), 0.0, atol=1e-7)
np.testing.assert_allclose(float(cosine(5)), 0.1, rtol=1e-6)
np.testing.assert_allclose(float(cosine(10)),
                           0.1 * 0.5 * (1 + math.cos(math.pi * 5 / 10)),
                           rtol=1e-5)


class CustomSchedule(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, d_model, warmup_steps=4000):
        super().__init__()
        self.d_model = d_model
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        step = ops.cast(step, "float32")
        arg1 = ops.rsqrt(step)
        arg2 = step * (self.warmup_steps ** -1.5)
        return ops.rsqrt(ops.cast(self.d_model, "float32")) * \
            ops.minimum(arg1, arg2)

    def get_config(self):
        return {"d_model": self.d_model, "warmup_steps": self.warmup_steps}


schedule = CustomSchedule(64, warmup_steps=4)
for s in (1, 3, 4, 9):
    np.testing.assert_allclose(
        float(ops.convert_to_numpy(schedule(s))),
        64 ** -0.5 * min(s ** -0.5, s * 4 ** -1.5), rtol=1e-5)
opt = keras.optimizers.Adam(schedule, beta_1=0.9, beta_2=0.98, epsilon=1e-9)
model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(1)])
model.compile(optimizer=opt, loss="mse")
model.fit(x, y, batch_size=16, epochs=2, verbose=0)
assert int(opt.iterations.numpy()) == 8
# Keras evaluates the schedule at `iterations` (8 after eight updates).
np.testing.assert_allclose(float(ops.convert_to_numpy(opt.learning_rate)),
                           64 ** -0.5 * min(8 ** -0.5, 8 * 4 ** -1.5),
                           rtol=1e-5)
config = keras.optimizers.schedules.serialize(schedule)
assert config["config"] == {"d_model": 64, "warmup_steps": 4}


# This function keeps the initial learning rate for the first two epochs
# and decreases it exponentially after that.
def scheduler(epoch, lr):
    if epoch < 2:
        return lr
    else:
        # The docstring's `lr * ops.exp(-0.1)` is a tensor, which Keras 3
        # (and gkeras) refuse: "should be a float".
        return lr * math.exp(-0.1)


model = keras.models.Sequential([keras.layers.Dense(10)])
model.compile(keras.optimizers.SGD(learning_rate=0.01), loss="mse")
np.testing.assert_allclose(
    round(float(ops.convert_to_numpy(model.optimizer.learning_rate)), 5), 0.01)
callback = keras.callbacks.LearningRateScheduler(scheduler)
# (The docstring's targets `np.zeros(5)` do not broadcast against the
# (5, 10) outputs in Keras 3 either; (5, 10) zeros here.)
history = model.fit(np.arange(100).reshape(5, 20), np.zeros((5, 10)),
                    epochs=5, callbacks=[callback], verbose=0)
np.testing.assert_allclose(
    round(float(ops.convert_to_numpy(model.optimizer.learning_rate)), 5),
    round(0.01 * math.exp(-0.3), 5))
np.testing.assert_allclose(
    history.history["learning_rate"],
    [0.01, 0.01, 0.01 * math.exp(-0.1), 0.01 * math.exp(-0.2),
     0.01 * math.exp(-0.3)], rtol=1e-5)
