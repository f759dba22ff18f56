"""Hidden checks for hw5's loops: the student's loop and the reference run through the
same driver (assignments/hw5/tests/drivers/loops.py), on data the public checks never
show — several batches with a smaller last one, momentum, dropout, float32 — and every
result compared. What the driver saw the loop do (steps, zero_grad calls, the model's
mode) only explains a difference; the verdict is the comparison."""

import pytest
import torch

from grader.checks import assert_close, shown


def _data(rows, features, classes, seed, dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, features, generator=generator, dtype=torch.float64).to(dtype)
    y = torch.randint(classes, (rows,), generator=generator)
    y[:classes] = torch.arange(classes)
    return x, y


def _pair(returned, function):
    if not isinstance(returned, list) or len(returned) != 2:
        raise AssertionError(f"`{function}` should return (mean_loss, accuracy), got {shown(returned)}")
    try:
        return float(returned[0]), float(returned[1])
    except (TypeError, ValueError, RuntimeError):
        raise AssertionError(f"`{function}` should return two numbers (mean_loss, accuracy), got {shown(returned)}") from None


def _why(got, expected):
    """What the loop did differently from the reference, in words ("" if nothing seen)."""
    said = []
    if got["steps"] != expected["steps"]:
        said.append(f"it took {got['steps']} optimizer steps for {expected['batches']} batches")
    if got["zero_grads"] == 0 < expected["zero_grads"]:
        said.append("gradients were never cleared, so they piled up across batches (optimizer.zero_grad() before each backward)")
    modes = [training for training, _ in got["forwards"]]
    wanted = [training for training, _ in expected["forwards"]]
    if modes != wanted and wanted and all(wanted):
        said.append("the model was not in training mode for every batch (model.train() at the start)")
    if modes != wanted and wanted and not any(wanted):
        said.append("the model was in training mode (dropout on) during evaluation (model.eval() first)")
    return ("; " + "; ".join(said)) if said else ""


TRAINING = [
    pytest.param(dict(rows=11, batch_size=4, lr=0.2, momentum=0.9), torch.float64, id="uneven_batches_momentum"),
    pytest.param(dict(rows=9, batch_size=2, lr=0.3, dropout=0.5, start_in_eval=True), torch.float64, id="dropout_from_eval_mode"),
    pytest.param(dict(rows=16, batch_size=5, lr=0.1, momentum=0.5), torch.float32, id="float32"),
]


@pytest.mark.task("train_epoch")
@pytest.mark.parametrize("case, dtype", TRAINING)
def test_an_epoch_matches_the_reference(student, ref, drivers, case, dtype):
    case = dict(case)  # the parameter is shared by every run of this check
    rows = case.pop("rows")
    x, y = _data(rows, 5, 4, seed=rows, dtype=dtype)
    got = student.drive(drivers.loops.one_epoch, x, y, seed=rows + 1, **case)
    expected = drivers.loops.one_epoch(ref, x, y, seed=rows + 1, **case)
    why = _why(got, expected)
    loose = dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else {}
    mean_loss, accuracy = _pair(got["returned"], "train_epoch")
    want_loss, want_accuracy = expected["returned"]
    assert_close(mean_loss, want_loss, name="the epoch's mean loss per sample" + why, **loose)
    assert_close(accuracy, want_accuracy, name="the epoch's accuracy" + why, **loose)
    assert_close(got["params"], expected["params"], name="the parameters after one epoch" + why, **loose)


EVALUATION = [
    pytest.param(dict(rows=13, batch_size=5, dropout=0.3), torch.float64, id="uneven_batches"),
    pytest.param(dict(rows=7, batch_size=7, dropout=0.6), torch.float64, id="one_batch"),
    pytest.param(dict(rows=20, batch_size=6, dropout=0.5), torch.float32, id="float32"),
]


@pytest.mark.task("evaluate")
@pytest.mark.parametrize("case, dtype", EVALUATION)
def test_evaluation_matches_the_reference(student, ref, drivers, case, dtype):
    case = dict(case)
    rows = case.pop("rows")
    x, y = _data(rows, 4, 3, seed=100 + rows, dtype=dtype)
    got = student.drive(drivers.loops.evaluation, x, y, seed=rows, **case)
    expected = drivers.loops.evaluation(ref, x, y, seed=rows, **case)
    why = _why({**got, "steps": 0, "batches": 0}, {**expected, "steps": 0, "batches": 0})
    loose = dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else {}
    mean_loss, accuracy = _pair(got["returned"], "evaluate")
    want_loss, want_accuracy = expected["returned"]
    assert_close(mean_loss, want_loss, name="the mean loss per sample (each batch weighted by its size)" + why, **loose)
    assert_close(accuracy, want_accuracy, name="the accuracy" + why, **loose)
    assert not got["changed"], "`evaluate` changed the model's parameters"


@pytest.mark.task("evaluate")
@pytest.mark.structure  # no value changes with gradients on: it gates the value checks' points
def test_evaluation_computes_no_gradients(student, drivers):
    x, y = _data(12, 4, 3, seed=31)
    got = student.drive(drivers.loops.evaluation, x, y, seed=32, batch_size=5)
    assert got["forwards"], "`evaluate` never ran the model"
    assert not any(enabled for _, enabled in got["forwards"]), (
        "`evaluate` ran the model with gradients on: wrap the loop in torch.no_grad() (it builds graphs for nothing)"
    )
    assert not got["grads"], "`evaluate` left gradients in the parameters (it must not back-propagate)"
    assert not got["left_training"], "`evaluate` should leave the model in evaluation mode"


LOADERS = [
    pytest.param(dict(rows=23, test_rows=11, batch_size=5), id="uneven"),
    pytest.param(dict(rows=6, test_rows=9, batch_size=8), id="batch_larger_than_train"),
    pytest.param(dict(rows=12, test_rows=12, batch_size=3), id="even"),
]


@pytest.mark.task("loaders")
@pytest.mark.parametrize("case", LOADERS)
def test_loaders_match_the_reference(student, ref, drivers, case):
    got = student.drive(drivers.loops.loaders, features=2, seed=5, **case)
    expected = drivers.loops.loaders(ref, features=2, seed=5, **case)
    assert got["returned"] == "loaders", f"make_loaders should return (train_loader, test_loader), got {shown(got['returned'])}"
    assert got["test"]["order"] == expected["test"]["order"], (
        f"the test loader gave rows in the order {got['test']['order'][:12]}, not as given: a shuffled test loader "
        "matches every prediction to another row's id (shuffle=False for the test set)"
    )
    assert got["test"]["sizes"] == expected["test"]["sizes"], f"test batches of {got['test']['sizes']}; expected {expected['test']['sizes']}"
    rows = case["rows"]
    for i, (epoch, want) in enumerate(zip(got["train"], expected["train"])):
        assert sorted(epoch["order"]) == list(range(rows)), f"epoch {i + 1} of the train loader did not give every row once: {epoch['order']}"
        assert epoch["sizes"] == want["sizes"], f"train batches of {epoch['sizes']}; expected {want['sizes']}"
        assert epoch["labels_kept"], "the train loader separated rows from their labels"
    if rows > 3:
        orders = [e["order"] for e in got["train"]]
        assert orders[0] != orders[1] and list(range(rows)) not in orders, f"the train loader is not reshuffled each epoch: {orders}"


@pytest.mark.task("checkpoint")
@pytest.mark.parametrize("epoch", [0, 17])
def test_checkpoint_round_trip_in_a_fresh_worker(student, drivers, epoch):
    """Saved in one worker and loaded in another, which has only the file; what it must
    bring back is computed here, from the driver's own training (no student code)."""
    x, y = _data(15, 4, 3, seed=40 + epoch, dtype=torch.float64)
    saved = student.drive(drivers.loops.save, x, y, seed=epoch, epoch=epoch, steps=4)
    assert saved["file"] is not None, "save_checkpoint wrote nothing at the path it was given"
    assert saved["weights_only"], "the checkpoint does not load with torch.load(path, weights_only=True): save state_dicts, not objects"
    student.restart()
    loaded = student.drive(drivers.loops.load, saved["file"], x, y, seed=epoch)
    expected = drivers.loops.continued(x, y, seed=epoch, steps=4)
    assert loaded["epoch"] == epoch and type(loaded["epoch"]) is int, f"load_checkpoint returned the epoch {shown(loaded['epoch'])}; {epoch} was saved"
    assert_close(loaded["params"], expected["params"], name="the parameters load_checkpoint restored")
    assert_close(loaded["next"], expected["next"], name="the parameters one step after the round trip (save and load the optimizer's state too)")
