"""Drivers for the hw5 loop checks: they build a tiny model, a loader, a loss and an
optimizer, run your function on them inside the grader's worker, and return plain data
(the parameters afterwards, what your loop returned, what it did to the model).

The checks run the same driver on the reference solution and compare the two results:
nothing here decides a score. You can run a driver yourself to see what a check sees:

    import loops as mine                      # your loops.py
    from tests.drivers.loops import one_epoch
    print(one_epoch(mine, x, y, seed=0, batch_size=4, lr=0.1))

Only torch and the standard library are imported: a driver runs alone in the worker.
"""

import tempfile
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def tiny_model(features, classes, *, seed, hidden=8, dropout=0.0, dtype=torch.float64):
    """Linear -> ReLU -> Dropout -> Linear, with parameters drawn from ``seed``."""
    generator = torch.Generator()
    generator.manual_seed(seed)
    model = nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, classes)).to(dtype)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=dtype) * 0.7)
    return model


def plain(value, depth=0):
    """What crosses back: tensors detached, tuples as lists, anything else by type name."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (tuple, list)) and depth < 3:
        return [plain(v, depth + 1) for v in value]
    return f"<{type(value).__name__}>"


class Watch:
    """What a loop did to the model and the optimizer: every forward pass's mode (of the
    dropout layer, where there is one) and whether gradients were on, ``zero_grad`` calls
    (the optimizer's or the model's), and steps. The hook sits on the first layer, so a
    loop that calls ``model.forward(x)`` is seen as one that calls ``model(x)``."""

    def __init__(self, model, optimizer=None):
        self.forwards = []  # [training, grad enabled] per forward pass
        self.zero_grads = 0
        self.steps = 0
        leaves = [m for m in model.modules() if not list(m.children())]
        dropout = next((m for m in leaves if isinstance(m, nn.Dropout)), leaves[0])
        leaves[0].register_forward_pre_hook(lambda module, args: self.forwards.append([dropout.training, torch.is_grad_enabled()]))
        model.zero_grad = self._counted(model.zero_grad)
        if optimizer is not None:
            optimizer.zero_grad = self._counted(optimizer.zero_grad)
            optimizer.register_step_post_hook(lambda *_: self._stepped())

    def _counted(self, method):
        def counted(*args, **kwargs):
            self.zero_grads += 1
            return method(*args, **kwargs)

        return counted

    def _stepped(self):
        self.steps += 1

    def seen(self):
        return {"forwards": self.forwards, "zero_grads": self.zero_grads, "steps": self.steps}


def _params(model):
    return [p.detach().clone() for p in model.parameters()]


def one_epoch(fns, x, y, *, seed, batch_size, lr, momentum=0.0, dropout=0.0, start_in_eval=False):
    """``train_epoch`` once over ``(x, y)`` in order (no shuffling, so both sides see the
    same batches), with SGD and cross-entropy; dropout draws from ``seed``."""
    model = tiny_model(x.shape[1], int(y.max()) + 1, seed=seed, dropout=dropout, dtype=x.dtype)
    if start_in_eval:
        model.eval()  # as a previous evaluate() leaves it
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    watch = Watch(model, optimizer)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)
    torch.manual_seed(seed)
    returned = fns.train_epoch(model, loader, nn.CrossEntropyLoss(), optimizer)
    return {"returned": plain(returned), "params": _params(model), "batches": len(loader), **watch.seen()}


def evaluation(fns, x, y, *, seed, batch_size, dropout=0.5):
    """``evaluate`` over ``(x, y)`` of a model with dropout, handed over in training mode
    (as a training epoch leaves it)."""
    model = tiny_model(x.shape[1], int(y.max()) + 1, seed=seed, dropout=dropout, dtype=x.dtype)
    model.train()
    before = _params(model)
    watch = Watch(model)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)
    torch.manual_seed(seed)
    returned = fns.evaluate(model, loader, nn.CrossEntropyLoss())
    changed = any(not torch.equal(a, b.detach()) for a, b in zip(before, model.parameters()))
    grads = any(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in model.parameters())
    return {"returned": plain(returned), "changed": changed, "grads": grads, "left_training": model.training, **watch.seen()}


def _rows(batch):
    """A batch's tensors, whatever container holds them."""
    if isinstance(batch, torch.Tensor):
        return [batch]
    if isinstance(batch, (tuple, list)):
        return [t for t in batch if isinstance(t, torch.Tensor)]
    if isinstance(batch, dict):
        return [t for t in batch.values() if isinstance(t, torch.Tensor)]
    return []


def loaders(fns, *, rows, test_rows, features, batch_size, seed, epochs=2):
    """``make_loaders`` on data whose first column is each row's number, then every epoch
    of the train loader and one pass of the test loader, as the rows' numbers in the order
    they came, the batch sizes, and whether each label stayed with its row."""
    generator = torch.Generator().manual_seed(seed + 1)
    train_x = torch.randn(rows, features, generator=generator, dtype=torch.float64)
    train_x[:, 0] = torch.arange(rows, dtype=torch.float64)
    train_y = torch.arange(rows) % 3
    test_x = torch.randn(test_rows, features, generator=generator, dtype=torch.float64)
    test_x[:, 0] = torch.arange(test_rows, dtype=torch.float64)
    returned = fns.make_loaders(train_x, train_y, test_x, batch_size, seed)
    if not isinstance(returned, (tuple, list)) or len(returned) != 2:
        return {"returned": plain(returned)}
    train_loader, test_loader = returned
    epochs_seen = []
    for _ in range(epochs):
        order, sizes, labels_kept = [], [], True
        for batch in train_loader:
            tensors = _rows(batch)
            if len(tensors) < 2:
                return {"returned": "train batches without labels", "train": epochs_seen}
            bx, by = tensors[0], tensors[1]
            ids = bx[:, 0].round().long()
            order += ids.tolist()
            sizes.append(len(bx))
            labels_kept = labels_kept and bool(torch.equal(by.long(), ids % 3))
        epochs_seen.append({"order": order, "sizes": sizes, "labels_kept": labels_kept})
    test_order, test_sizes = [], []
    for batch in test_loader:
        tensors = _rows(batch)
        if not tensors:
            return {"returned": "test batches without tensors", "train": epochs_seen}
        test_order += tensors[0][:, 0].round().long().tolist()
        test_sizes.append(len(tensors[0]))
    return {"returned": "loaders", "train": epochs_seen, "test": {"order": test_order, "sizes": test_sizes}}


def trained(x, y, *, seed, steps=3):
    """The model and Adam optimizer a checkpoint check saves: ``steps`` steps on (x, y).
    No student code: the checks build the expected values from it themselves."""
    model = tiny_model(x.shape[1], int(y.max()) + 1, seed=seed, dtype=x.dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(steps):
        step(model, optimizer, x, y)
    return model, optimizer


def step(model, optimizer, x, y):
    model.zero_grad(set_to_none=True)
    nn.CrossEntropyLoss()(model(x), y).backward()
    optimizer.step()


def continued(x, y, *, seed, steps=3):
    """What a checkpoint must bring back: the parameters saved, and those after one more
    step (which needs the optimizer's state: Adam's moments and step count)."""
    model, optimizer = trained(x, y, seed=seed, steps=steps)
    saved = _params(model)
    step(model, optimizer, x, y)
    return {"params": saved, "next": _params(model)}


def save(fns, x, y, *, seed, epoch, steps=3):
    """``save_checkpoint`` of the trained model and optimizer; returns the file's bytes
    (the check hands them to ``load`` in a fresh worker, which has seen nothing of this
    one) and whether the file loads with ``torch.load(weights_only=True)``."""
    model, optimizer = trained(x, y, seed=seed, steps=steps)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "checkpoint.pt"
        fns.save_checkpoint(str(path), model, optimizer, epoch)
        if not path.is_file():
            return {"file": None, "weights_only": False}
        try:
            torch.load(path, weights_only=True)
            weights_only = True
        except Exception:  # noqa: BLE001 - a pickled model object, say
            weights_only = False
        data = path.read_bytes()
    return {"file": torch.frombuffer(bytearray(data), dtype=torch.uint8) if data else None, "weights_only": weights_only}


def load(fns, file, x, y, *, seed):
    """``load_checkpoint`` of a file's bytes into a model and an optimizer built afresh
    (another initialisation), then one more step: the parameters loaded, those after the
    step, and the epoch it returned."""
    model = tiny_model(x.shape[1], int(y.max()) + 1, seed=seed + 7, dtype=x.dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "checkpoint.pt"
        path.write_bytes(file.numpy().tobytes())
        epoch = fns.load_checkpoint(str(path), model, optimizer)
    loaded = _params(model)
    step(model, optimizer, x, y)
    return {"epoch": plain(epoch), "params": loaded, "next": _params(model)}
