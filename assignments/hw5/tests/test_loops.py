"""Public checks for hw5's loops.

A loop takes a model, a loader, a loss and an optimizer, so these checks run your
function through a driver (tests/drivers/loops.py: read it, it is exactly what a check
builds) and look at what came back: the parameters after an epoch, what your function
returned, the mode the model was in at each forward pass. The hidden checks use other
data, several batches with a smaller last one, momentum and dropout, and compare
everything with the reference run through the same drivers.
"""

import pytest
import torch
import torch.nn.functional as F

from grader.checks import assert_close, shown


def _data(rows, features, classes, seed):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, features, generator=generator, dtype=torch.float64)
    y = torch.randint(classes, (rows,), generator=generator)
    y[:classes] = torch.arange(classes)  # every class present: the model's width is y.max() + 1
    return x, y


def _pair(returned, function):
    """(mean_loss, accuracy) as floats, or a failure that says what came back."""
    if not isinstance(returned, list) or len(returned) != 2:
        raise AssertionError(f"`{function}` should return (mean_loss, accuracy), got {shown(returned)}")
    try:
        return float(returned[0]), float(returned[1])
    except (TypeError, ValueError, RuntimeError):
        raise AssertionError(f"`{function}` should return two numbers (mean_loss, accuracy), got {shown(returned)}") from None


@pytest.mark.task("loaders")
def test_test_loader_keeps_the_order_and_train_loader_shuffles(student, drivers):
    got = student.drive(drivers.loops.loaders, rows=10, test_rows=7, features=3, batch_size=4, seed=0)
    assert got["returned"] == "loaders", f"make_loaders should return (train_loader, test_loader), got {shown(got['returned'])}"
    test = got["test"]
    assert test["order"] == list(range(7)), (
        f"the test loader gave the rows in the order {test['order']}, not as given: predictions are matched to "
        "test ids by position, so a shuffled test loader scores each prediction against another row's label"
    )
    assert test["sizes"] == [4, 3], f"test batches of {test['sizes']} rows; expected [4, 3] (batch_size 4, nothing dropped)"
    for i, epoch in enumerate(got["train"]):
        assert sorted(epoch["order"]) == list(range(10)), f"epoch {i + 1} of the train loader gave rows {epoch['order']}: every row once"
        assert epoch["sizes"] == [4, 4, 2], f"train batches of {epoch['sizes']} rows; expected [4, 4, 2]"
        assert epoch["labels_kept"], "the train loader separated rows from their labels"
    orders = [e["order"] for e in got["train"]]
    assert orders[0] != list(range(10)) and orders[0] != orders[1], f"the train loader is not shuffled each epoch: {orders}"


@pytest.mark.task("train_epoch")
def test_one_batch_is_one_sgd_step(student, drivers):
    """With a single batch an epoch is one step: p - lr * grad of the mean loss."""
    x, y = _data(6, 4, 3, seed=1)
    got = student.drive(drivers.loops.one_epoch, x, y, seed=2, batch_size=6, lr=0.5)
    model = drivers.loops.tiny_model(4, 3, seed=2)
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    expected = [(p - 0.5 * p.grad).detach() for p in model.parameters()]
    mean_loss, accuracy = _pair(got["returned"], "train_epoch")
    assert_close(mean_loss, loss.item(), name="the mean loss (from the forward pass before the step)")
    assert_close(accuracy, (logits.argmax(dim=1) == y).double().mean().item(), name="the accuracy")
    assert got["steps"] == 1, f"`train_epoch` took {got['steps']} optimizer steps for 1 batch"
    assert_close(got["params"], expected, name="the parameters after the step")


@pytest.mark.task("train_epoch")
@pytest.mark.structure  # a premise: the values are the hidden checks' to compare
def test_every_batch_is_trained_in_training_mode(student, drivers):
    x, y = _data(10, 3, 2, seed=3)
    got = student.drive(drivers.loops.one_epoch, x, y, seed=4, batch_size=4, lr=0.1, dropout=0.5, start_in_eval=True)
    assert got["steps"] == got["batches"] == 3, f"`train_epoch` took {got['steps']} optimizer steps for {got['batches']} batches"
    assert got["forwards"] and all(training for training, _ in got["forwards"]), (
        "the model was in evaluation mode during training (dropout off): call model.train() at the start of the epoch"
    )


@pytest.mark.task("evaluate")
def test_evaluate_is_the_mean_over_samples_in_eval_mode(student, drivers):
    """10 rows in batches of 4, 4 and 2: a mean of the three batch means is not the mean
    over the 10 samples; the model has dropout and arrives in training mode."""
    x, y = _data(10, 3, 3, seed=5)
    got = student.drive(drivers.loops.evaluation, x, y, seed=6, batch_size=4, dropout=0.5)
    model = drivers.loops.tiny_model(3, 3, seed=6, dropout=0.5).eval()
    with torch.no_grad():
        logits = model(x)
    mean_loss, accuracy = _pair(got["returned"], "evaluate")
    assert got["forwards"] and not any(training for training, _ in got["forwards"]), (
        "the model was in training mode during evaluation (dropout on): call model.eval() first"
    )
    assert_close(mean_loss, F.cross_entropy(logits, y).item(), name="the mean loss per sample")
    assert_close(accuracy, (logits.argmax(dim=1) == y).double().mean().item(), name="the accuracy")
    assert not got["changed"], "`evaluate` changed the model's parameters"


def _round_trip(student, drivers, x, y, *, seed, epoch):
    """Saved in one worker, loaded in a fresh one: only the file goes from one to the other."""
    saved = student.drive(drivers.loops.save, x, y, seed=seed, epoch=epoch)
    assert saved["file"] is not None, "save_checkpoint wrote nothing at the path it was given"
    assert saved["weights_only"], "the checkpoint does not load with torch.load(path, weights_only=True): save state_dicts, not objects"
    student.restart()
    return student.drive(drivers.loops.load, saved["file"], x, y, seed=seed)


@pytest.mark.task("checkpoint")
def test_a_checkpoint_round_trip_resumes_training(student, drivers):
    x, y = _data(12, 3, 3, seed=7)
    loaded = _round_trip(student, drivers, x, y, seed=8, epoch=5)
    expected = drivers.loops.continued(x, y, seed=8)
    assert loaded["epoch"] == 5 and type(loaded["epoch"]) is int, f"load_checkpoint returned the epoch {shown(loaded['epoch'])}; 5 was saved"
    assert_close(loaded["params"], expected["params"], name="the parameters load_checkpoint restored")
    assert_close(
        loaded["next"], expected["next"],
        name="the parameters one step after the round trip (the optimizer's state, Adam's moments, must be saved and loaded too)",
    )  # fmt: skip
