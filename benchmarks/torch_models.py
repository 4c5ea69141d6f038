"""The tutorial models as plain PyTorch `nn.Module`s (the eager peer).

Each twin has the architecture of the model of the same name in
`benchmarks/models.py` (layer sizes, Keras's BatchNormalization epsilon and
momentum, LayerNormalization epsilon), trained with `torch.optim.Adam`,
so gkeras can be timed against PyTorch eager on the CPU (oneDNN/MKL) and
on a GPU (cuDNN) with the same step definition.

Example:

    twin = build("cnn", batch=64, device="cpu")
    loss = twin.train_step()         # one step, returns the float loss
    twin.predict()                   # eval() + inference_mode forward
"""

import numpy as np


class Twin:
    """A PyTorch model with its optimizer, loss and one epoch of batches.

    Args:
        model: the `torch.nn.Module`.
        xs: list of input batches (tensors on the device).
        ys: list of target batches.
        loss_fn: the loss module.
    """

    def __init__(self, model, xs, ys, loss_fn):
        import torch
        self.torch = torch
        self.model, self.xs, self.ys, self.loss_fn = model, xs, ys, loss_fn
        self.opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        self._i = 0

    def train_step(self, i=None):
        """One Adam step on batch `i` (cycling when None); the float loss.

        Reading the loss back (`.item()`) matches `train_on_batch`, which
        returns it as a Python float.
        """
        if i is None:
            i = self._i % len(self.xs)
            self._i += 1
        self.model.train()
        self.opt.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.model(self.xs[i]), self.ys[i])
        loss.backward()
        self.opt.step()
        return loss.item()

    def fit_epoch(self):
        """One pass over every batch, as `fit` does (loss read per step)."""
        for i in range(len(self.xs)):
            self.train_step(i)

    def predict(self, x=None):
        """Inference forward on one batch (`eval()`, `inference_mode`)."""
        self.model.eval()
        with self.torch.inference_mode():
            return self.model(self.xs[0] if x is None else x)


def _modules():
    import torch
    from torch import nn

    class Transformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.att = nn.ModuleList(nn.MultiheadAttention(
                128, 8, batch_first=True) for _ in range(2))
            self.n1 = nn.ModuleList(nn.LayerNorm(128, eps=1e-6)
                                    for _ in range(2))
            self.ff = nn.ModuleList(nn.Sequential(
                nn.Linear(128, 512), nn.ReLU(), nn.Linear(512, 128))
                for _ in range(2))
            self.n2 = nn.ModuleList(nn.LayerNorm(128, eps=1e-6)
                                    for _ in range(2))
            self.out = nn.Linear(128, 2)

        def forward(self, x):
            for att, n1, ff, n2 in zip(self.att, self.n1, self.ff, self.n2):
                x = n1(x + att(x, x, x, need_weights=False)[0])
                x = n2(x + ff(x))
            return self.out(x.mean(1))

    class Recurrent(nn.Module):
        def __init__(self, cell):
            super().__init__()
            self.emb = nn.Embedding(20000, 128)
            self.rnn = cell(128, 128, batch_first=True)
            self.out = nn.Linear(128, 1)

        def forward(self, x):
            return self.out(self.rnn(self.emb(x))[0][:, -1])

    return torch, nn, Transformer, Recurrent


def build(name, batch, device="cpu", batches=4, seq=100):
    """The PyTorch twin of tutorial model `name` with `batches` batches.

    Args:
        name: "mlp", "cnn", "lstm", "gru" or "transformer".
        batch: batch size.
        device: torch device string ("cpu", "cuda").
        batches: how many batches one epoch has (as benchmarks/models.py).
        seq: sequence length of "lstm", "gru" and "transformer" (100: the
            tutorial models); ignored by the others.

    Returns:
        A `Twin`.
    """
    torch, nn, Transformer, Recurrent = _modules()
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    n = batch * batches
    if name == "mlp":
        model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(),
                              nn.Linear(128, 64), nn.ReLU(),
                              nn.Linear(64, 10))
        x = torch.rand((n, 784), generator=g)
        y = torch.randint(0, 10, (n,), generator=g)
        loss_fn = nn.CrossEntropyLoss()
    elif name == "cnn":
        layers, c = [], 3
        for f in (32, 64, 128):
            layers += [nn.Conv2d(c, f, 3, padding=1), nn.BatchNorm2d(
                f, eps=1e-3, momentum=0.01), nn.ReLU(), nn.MaxPool2d(2)]
            c = f
        model = nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * 16, 128),
                              nn.ReLU(), nn.Linear(128, 10))
        x = torch.rand((n, 3, 32, 32), generator=g)
        y = torch.randint(0, 10, (n,), generator=g)
        loss_fn = nn.CrossEntropyLoss()
    elif name in ("lstm", "gru"):
        model = Recurrent(nn.LSTM if name == "lstm" else nn.GRU)
        x = torch.randint(1, 20000, (n, seq), generator=g)
        y = torch.randint(0, 2, (n, 1), generator=g).float()
        loss_fn = nn.BCEWithLogitsLoss()
    elif name == "transformer":
        model = Transformer()
        x = torch.randn((n, seq, 128), generator=g)
        y = torch.randint(0, 2, (n,), generator=g)
        loss_fn = nn.CrossEntropyLoss()
    else:
        raise ValueError(f"unknown model {name!r}: expected one of mlp, cnn, "
                         "lstm, gru, transformer")
    model = model.to(device)
    xs = [t.to(device) for t in torch.split(x, batch)]
    ys = [t.to(device) for t in torch.split(y, batch)]
    return Twin(model, xs, ys, loss_fn)


def predict_rows(twin, rows, batch):
    """Batched inference over `rows` fresh rows shaped like the inputs
    (the peer of `model.predict(x, batch_size=batch)`)."""
    torch = twin.torch
    x0 = twin.xs[0]
    if x0.dtype.is_floating_point:
        x = torch.rand((rows,) + tuple(x0.shape[1:]), device=x0.device)
    else:
        x = torch.randint(1, 20000, (rows,) + tuple(x0.shape[1:]),
                          device=x0.device)
    out = [twin.predict(x[i:i + batch]) for i in range(0, rows, batch)]
    return np.concatenate([o.cpu().numpy() for o in out])
