"""The main job: train a classifier on the embedded UCI digits dataset.

Run with `python -m gkeras.demo`. It prints the backend in use, the model
summary, Keras-style training progress and the test accuracy.
"""

import argparse
import sys
import time

import numpy as np


def build_model():
    """The tutorials' MLP, sized for 8x8 digit images."""
    import gkeras
    from gkeras.layers import Dense, Dropout, Flatten
    return gkeras.Sequential([
        gkeras.Input(shape=(8, 8)),
        Flatten(),
        Dense(128, activation="relu"),
        Dropout(0.1),
        Dense(64, activation="relu"),
        Dense(10, activation="softmax"),
    ], name="digits_mlp")


def main(argv=None):
    """Trains, evaluates and reports; exits non-zero if accuracy < 0.95."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--verbose", type=int, default=2)
    args = parser.parse_args(argv)

    import gkeras
    from gkeras.datasets import digits
    from gkeras.utils import to_categorical

    gkeras.utils.set_random_seed(args.seed)
    print(f"gkeras {gkeras.__version__} - backend: "
          f"{gkeras.backend.backend()}")
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    x_train = x_train.astype("float32") / 16.0
    x_test = x_test.astype("float32") / 16.0
    y_train_1h = to_categorical(y_train, num_classes=10)
    y_test_1h = to_categorical(y_test, num_classes=10)
    print(f"UCI digits: {len(x_train)} training and {len(x_test)} test "
          "images of 8x8 pixels")

    model = build_model()
    model.summary()
    model.compile(optimizer="adam", loss="categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x_train, y_train_1h, epochs=args.epochs,
                        batch_size=args.batch_size, validation_split=0.1,
                        verbose=args.verbose)
    elapsed = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(x_test, y_test_1h, verbose=0)
    predictions = model.predict(x_test[:5], verbose=0)
    print(f"training took {elapsed:.1f} s "
          f"({elapsed / args.epochs * 1000:.0f} ms/epoch)")
    print(f"final training accuracy: {history.history['accuracy'][-1]:.4f}")
    print(f"test loss: {test_loss:.4f} - test accuracy: {test_accuracy:.4f}")
    print("first 5 test predictions:", np.argmax(predictions, axis=1),
          "labels:", y_test[:5])
    print(f"backend used: {gkeras.backend.backend()}")
    if test_accuracy < 0.95:
        print("FAILED: test accuracy below 0.95", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
