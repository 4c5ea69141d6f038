"""Knowledge distillation: a `Distiller` model with its own `compile`
arguments and a `compute_loss` override mixing the student loss with the
KL divergence to the teacher's softened predictions.

Source: keras.io/examples/vision/knowledge_distillation (Keras 3
version). Changed: `keras` -> `gkeras`; 8x8 synthetic images instead of
MNIST, smaller teacher and student, fewer epochs.
"""
import numpy as np

import gkeras as keras
from gkeras import layers, ops

keras.utils.set_random_seed(7)


class Distiller(keras.Model):
    def __init__(self, student, teacher):
        super().__init__()
        self.teacher = teacher
        self.student = student

    def compile(self, optimizer, metrics, student_loss_fn,
                distillation_loss_fn, alpha=0.1, temperature=3):
        """Configure the distiller.

        Args:
            optimizer: Keras optimizer for the student weights
            metrics: Keras metrics for evaluation
            student_loss_fn: Loss function of difference between student
                predictions and ground-truth
            distillation_loss_fn: Loss function of difference between soft
                student predictions and soft teacher predictions
            alpha: weight to student_loss_fn and 1-alpha to
                distillation_loss_fn
            temperature: Temperature for softening probability
                distributions. Larger temperature gives softer
                distributions.
        """
        super().compile(optimizer=optimizer, metrics=metrics)
        self.student_loss_fn = student_loss_fn
        self.distillation_loss_fn = distillation_loss_fn
        self.alpha = alpha
        self.temperature = temperature

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     allow_empty=False):
        teacher_pred = self.teacher(x, training=False)
        student_loss = self.student_loss_fn(y, y_pred)

        distillation_loss = self.distillation_loss_fn(
            ops.softmax(teacher_pred / self.temperature, axis=1),
            ops.softmax(y_pred / self.temperature, axis=1),
        ) * (self.temperature**2)

        loss = self.alpha * student_loss + (1 - self.alpha) * distillation_loss
        return loss

    def call(self, x):
        return self.student(x)


# Create the teacher
teacher = keras.Sequential(
    [
        keras.Input(shape=(8, 8, 1)),
        layers.Conv2D(16, (3, 3), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(32, (3, 3), strides=(2, 2), padding="same"),
        layers.Flatten(),
        layers.Dense(4),
    ],
    name="teacher",
)
# Create the student
student = keras.Sequential(
    [
        keras.Input(shape=(8, 8, 1)),
        layers.Conv2D(8, (3, 3), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Flatten(),
        layers.Dense(4),
    ],
    name="student",
)
# Clone student for later comparison
student_scratch = keras.models.clone_model(student)

rng = np.random.default_rng(0)
y_train = rng.integers(0, 4, 256)
x_train = rng.random((256, 8, 8, 1)).astype("float32") * 0.5
for i, c in enumerate(y_train):
    x_train[i, 2 * c:2 * c + 2] += 1.0
x_test, y_test = x_train[192:], y_train[192:]
x_train, y_train = x_train[:192], y_train[:192]

# Train teacher as usual
teacher.compile(
    optimizer=keras.optimizers.Adam(0.01),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=[keras.metrics.SparseCategoricalAccuracy()],
)
teacher.fit(x_train, y_train, epochs=3, verbose=0)
teacher_acc = teacher.evaluate(x_test, y_test, verbose=0)[1]
assert teacher_acc > 0.9, teacher_acc

# Initialize and compile distiller
distiller = Distiller(student=student, teacher=teacher)
distiller.compile(
    optimizer=keras.optimizers.Adam(0.01),
    metrics=[keras.metrics.SparseCategoricalAccuracy()],
    student_loss_fn=keras.losses.SparseCategoricalCrossentropy(
        from_logits=True),
    distillation_loss_fn=keras.losses.KLDivergence(),
    alpha=0.1,
    temperature=10,
)
# The loss of one batch is the distillation formula, in NumPy.
xb, yb = x_train[:32], y_train[:32]


def np_softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


s_logits = student.predict(xb, verbose=0).astype("float64")
t_logits = teacher.predict(xb, verbose=0).astype("float64")
ce = -np.log(np_softmax(s_logits)[np.arange(32), yb]).mean()
p_t, p_s = np_softmax(t_logits / 10), np_softmax(s_logits / 10)
eps = 1e-7
kl = np.mean(np.sum(np.clip(p_t, eps, 1) * np.log(np.clip(p_t, eps, 1)
                                                  / np.clip(p_s, eps, 1)),
                    axis=1))
logs = distiller.test_on_batch(xb, yb, return_dict=True)
np.testing.assert_allclose(logs["loss"], 0.1 * ce + 0.9 * kl * 100,
                           rtol=1e-4)

# Distill teacher to student
distiller.fit(x_train, y_train, epochs=15, verbose=0)
# Evaluate student on test dataset
student_acc = distiller.evaluate(x_test, y_test, verbose=0)[1]
assert student_acc > 0.7, student_acc    # chance: 0.25
