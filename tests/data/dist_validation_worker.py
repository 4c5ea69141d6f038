"""Run by tests/test_distribution_validation.py, as
`mpiexec -n 2 python dist_validation_worker.py OUT` (distributed) or
`python dist_validation_worker.py OUT single`: fit with validation data and
a callback recording the test hooks fit fires (issue 17, defect 6)."""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tests/, for _dist_worker


def main():
    out = sys.argv[1]
    single = len(sys.argv) > 2 and sys.argv[2] == "single"
    import _dist_worker as worker
    import gkeras as keras
    from gkeras import distribution as D
    if not single:
        D.set_distribution(D.DataParallel())
    events = []

    class Recorder(keras.callbacks.Callback):
        def on_test_begin(self, logs=None):
            events.append(["begin"])

        def on_test_batch_end(self, batch, logs=None):
            events.append(["batch", batch, float(logs["loss"])])

        def on_test_end(self, logs=None):
            events.append(["end", float(logs["loss"])])

    x, y = worker.data("mlp")
    model = worker.build("mlp")
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False,
                        validation_data=(x[:12], y[:12]),
                        validation_batch_size=6, callbacks=[Recorder()],
                        verbose=0)
    rank = 0 if single else D.rank()
    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump({"val_loss": history.history["val_loss"],
                   "events": events}, f)


if __name__ == "__main__":
    main()
