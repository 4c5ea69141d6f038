"""The Functional API guide: a multi-input, multi-output ticket classifier
with `loss_weights`, trained from dicts keyed by input and output names.

Source: keras.io/guides/functional_api ("Models with multiple inputs and
outputs"). Changed: `keras` -> `gkeras`; small synthetic tickets.
"""
import numpy as np

import gkeras as keras
from gkeras import layers

num_tags = 12
num_words = 100
num_departments = 4

title_input = keras.Input(shape=(None,), name="title")
body_input = keras.Input(shape=(None,), name="body")
tags_input = keras.Input(shape=(num_tags,), name="tags")

title_features = layers.Embedding(num_words, 16)(title_input)
body_features = layers.Embedding(num_words, 16)(body_input)
title_features = layers.LSTM(16)(title_features)
body_features = layers.LSTM(8)(body_features)
x = layers.concatenate([title_features, body_features, tags_input])
priority_pred = layers.Dense(1, name="priority")(x)
department_pred = layers.Dense(num_departments, name="department")(x)

model = keras.Model(
    inputs=[title_input, body_input, tags_input],
    outputs={"priority": priority_pred, "department": department_pred},
)
assert [t.name for t in model.inputs] == ["title", "body", "tags"]

model.compile(
    optimizer=keras.optimizers.RMSprop(1e-2),
    loss={
        "priority": keras.losses.BinaryCrossentropy(from_logits=True),
        "department": keras.losses.CategoricalCrossentropy(from_logits=True),
    },
    loss_weights={"priority": 1.0, "department": 0.2},
)

rng = np.random.default_rng(1)
n = 96
title_data = rng.integers(0, num_words, size=(n, 6))
body_data = rng.integers(0, num_words, size=(n, 10))
tags_data = rng.integers(0, 2, size=(n, num_tags)).astype("float32")
# Learnable targets: priority from the first tag, department from tags 1-4.
priority_targets = tags_data[:, :1].copy()
department_targets = keras.utils.to_categorical(
    tags_data[:, 1:5].argmax(axis=1), num_departments)

history = model.fit(
    {"title": title_data, "body": body_data, "tags": tags_data},
    {"priority": priority_targets, "department": department_targets},
    epochs=6, batch_size=32, verbose=0,
)
losses = history.history["loss"]
assert losses[-1] < 0.7 * losses[0], losses

# The total loss is the weighted sum of the two losses, computed in NumPy
# from the model's own predictions.
preds = model.predict({"title": title_data, "body": body_data,
                       "tags": tags_data}, verbose=0)
assert set(preds) == {"priority", "department"}
assert preds["priority"].shape == (n, 1)
assert preds["department"].shape == (n, num_departments)
z = preds["priority"].astype("float64")
bce = np.mean(np.maximum(z, 0) - z * priority_targets + np.log1p(np.exp(-abs(z))))
d = preds["department"].astype("float64")
logp = d - d.max(1, keepdims=True)
logp -= np.log(np.exp(logp).sum(1, keepdims=True))
cce = np.mean(-(department_targets * logp).sum(1))
total = model.evaluate({"title": title_data, "body": body_data,
                        "tags": tags_data},
                       {"priority": priority_targets,
                        "department": department_targets},
                       batch_size=n, verbose=0, return_dict=True)["loss"]
np.testing.assert_allclose(total, bce + 0.2 * cce, rtol=1e-4)
