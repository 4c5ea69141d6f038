"""Training & evaluation guide, multi-input multi-output models: losses as
a list or a dict, per-output metrics, `loss_weights`, a `None` loss for an
output not trained on, and data as lists or dicts.

Source: keras.io/guides/training_with_built_in_methods ("Passing data to
multi-input, multi-output models"). Changed: `keras` -> `gkeras`; 8x8
images and short series, 64 samples.
"""
import numpy as np

import gkeras as keras
from gkeras import layers

keras.utils.set_random_seed(25)
image_input = keras.Input(shape=(8, 8, 3), name="img_input")
timeseries_input = keras.Input(shape=(None, 10), name="ts_input")

x1 = layers.Conv2D(3, 3)(image_input)
x1 = layers.GlobalMaxPooling2D()(x1)
x2 = layers.Conv1D(3, 3)(timeseries_input)
x2 = layers.GlobalMaxPooling1D()(x2)
x = layers.concatenate([x1, x2])

score_output = layers.Dense(1, name="score_output")(x)
class_output = layers.Dense(5, name="class_output")(x)

model = keras.Model(inputs=[image_input, timeseries_input],
                    outputs=[score_output, class_output])
assert model.output_names == ["score_output", "class_output"]

# Generate dummy NumPy data
rng = np.random.default_rng(25)
img_data = rng.random(size=(64, 8, 8, 3)).astype("float32")
ts_data = rng.random(size=(64, 6, 10)).astype("float32")
score_targets = rng.random(size=(64, 1)).astype("float32")
class_targets = np.eye(5, dtype="float32")[rng.integers(0, 5, 64)]

model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss=[keras.losses.MeanSquaredError(),
          keras.losses.CategoricalCrossentropy(from_logits=True)],
    metrics=[
        [keras.metrics.MeanAbsolutePercentageError(),
         keras.metrics.MeanAbsoluteError()],
        [keras.metrics.CategoricalAccuracy()],
    ],
)
# Fit on lists
h = model.fit([img_data, ts_data], [score_targets, class_targets],
              batch_size=32, epochs=1, verbose=0).history
assert {"loss", "score_output_mean_absolute_error",
        "score_output_mean_absolute_percentage_error",
        "class_output_categorical_accuracy"} <= set(h), sorted(h)


def numpy_losses():
    score, logits = [p.astype("float64") for p in
                     model.predict([img_data, ts_data], verbose=0)]
    mse = np.mean((score - score_targets) ** 2)
    logp = logits - logits.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    cce = np.mean(-(class_targets * logp).sum(1))
    return mse, cce, score, logits


mse, cce, score, logits = numpy_losses()
res = model.evaluate([img_data, ts_data], [score_targets, class_targets],
                     batch_size=64, verbose=0, return_dict=True)
np.testing.assert_allclose(res["loss"], mse + cce, rtol=1e-4)
np.testing.assert_allclose(res["score_output_mean_absolute_error"],
                           np.mean(np.abs(score - score_targets)), rtol=1e-4)
np.testing.assert_allclose(
    res["class_output_categorical_accuracy"],
    np.mean(logits.argmax(1) == class_targets.argmax(1)), rtol=1e-6)

# Dicts, named after the outputs, and loss weights.
model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss={
        "score_output": keras.losses.MeanSquaredError(),
        "class_output": keras.losses.CategoricalCrossentropy(
            from_logits=True),
    },
    metrics={
        "score_output": [keras.metrics.MeanAbsolutePercentageError(),
                         keras.metrics.MeanAbsoluteError()],
        "class_output": [keras.metrics.CategoricalAccuracy()],
    },
    loss_weights={"score_output": 2.0, "class_output": 1.0},
)
model.fit({"img_input": img_data, "ts_input": ts_data},
          {"score_output": score_targets, "class_output": class_targets},
          batch_size=32, epochs=1, verbose=0)
mse, cce, _, _ = numpy_losses()
res = model.evaluate({"img_input": img_data, "ts_input": ts_data},
                     {"score_output": score_targets,
                      "class_output": class_targets},
                     batch_size=64, verbose=0, return_dict=True)
np.testing.assert_allclose(res["loss"], 2.0 * mse + cce, rtol=1e-4)
# The per-output losses are logged unweighted (issue 17 defect 7).
np.testing.assert_allclose(res["score_output_loss"], mse, rtol=1e-4)
np.testing.assert_allclose(res["class_output_loss"], cce, rtol=1e-4)

# List loss version: only the class output is trained on.
model.compile(
    optimizer=keras.optimizers.RMSprop(1e-3),
    loss=[None, keras.losses.CategoricalCrossentropy(from_logits=True)],
)
score_weights = [w.copy() for w in model.get_layer("score_output")
                 .get_weights()]
model.fit([img_data, ts_data], [score_targets, class_targets],
          batch_size=32, epochs=1, verbose=0)
# No loss reaches the score head, so its weights did not move.
for a, b in zip(score_weights, model.get_layer("score_output").get_weights()):
    np.testing.assert_array_equal(a, b)
mse, cce, _, _ = numpy_losses()
res = model.evaluate([img_data, ts_data], [score_targets, class_targets],
                     batch_size=64, verbose=0, return_dict=True)
np.testing.assert_allclose(res["loss"], cce, rtol=1e-4)
