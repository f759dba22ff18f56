"""A correct hw5 loops.py written unlike the reference: samplers instead of shuffle=,
gradients cleared by setting them to None after each step, losses summed as tensors,
inference_mode instead of no_grad, other checkpoint keys."""

import torch
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset


def make_loaders(train_x, train_y, test_x, batch_size, seed):
    g = torch.Generator()
    g.manual_seed(seed)
    train_set = TensorDataset(train_x, train_y)
    train_batches = BatchSampler(RandomSampler(train_set, generator=g), batch_size, drop_last=False)
    train_loader = DataLoader(train_set, batch_sampler=train_batches)
    test_loader = DataLoader(TensorDataset(test_x), sampler=SequentialSampler(range(len(test_x))), batch_size=batch_size)
    return train_loader, test_loader


def train_epoch(model, loader, loss_fn, optimizer):
    model.train(True)
    seen = 0
    loss_sum = torch.zeros((), dtype=torch.float64)
    hits = 0
    for batch in loader:
        inputs, targets = batch[0], batch[1]
        outputs = model(inputs)
        batch_loss = loss_fn(outputs, targets)
        batch_loss.backward()
        optimizer.step()
        for p in model.parameters():
            p.grad = None
        n = targets.shape[0]
        loss_sum += batch_loss.detach().double() * n
        hits += int((outputs.detach().max(dim=1).indices == targets).sum())
        seen += n
    return (loss_sum / seen).item(), hits / seen


def evaluate(model, loader, loss_fn):
    model.train(False)
    per_batch = []
    with torch.inference_mode():
        for inputs, targets in loader:
            outputs = model(inputs)
            per_batch.append((loss_fn(outputs, targets).double() * len(targets), (outputs.argmax(1) == targets).sum(), len(targets)))
    total = sum(n for _, _, n in per_batch)
    return float(sum(l for l, _, _ in per_batch) / total), float(sum(c for _, c, _ in per_batch)) / total


def save_checkpoint(path, model, optimizer, epoch):
    state = {"epoch_done": int(epoch)}
    state["model_state"] = model.state_dict()
    state["optim_state"] = optimizer.state_dict()
    with open(path, "wb") as f:
        torch.save(state, f)


def load_checkpoint(path, model, optimizer):
    with open(path, "rb") as f:
        state = torch.load(f, map_location="cpu")
    model.load_state_dict(state["model_state"])
    optimizer.load_state_dict(state["optim_state"])
    return state["epoch_done"]
