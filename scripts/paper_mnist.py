"""Reproduce the TCL paper's own MNIST experiment (Falk, Strupp, Scellier, Murugan, Nat. Commun. 2025, Fig. 3)
in plain numpy, Equilibrium Propagation (EqProp) next to Temporal Contrastive Learning (TCL), so that circuit
results can be read against the paper's.

What is reproduced (docs physics.md sections 1.1-1.3, 2.4, 2.6 item 4, 5.1):

* A 784-500-10 layered energy-based model, rho(s) = clip(s, 0, 1),
  E = 1/2 sum rho(s)^2 - sum b.rho(s) - sum rho(s_pre)^T W rho(s_post), cost C = |y - onehot|^2,
  F = E + beta C. Relaxation s <- clip(s - epsilon dF/ds, 0, 1) for the hidden and output layers, input
  clamped; free phase n_it_neg = 20 steps from per-example persistent particles, nudged phase n_it_pos = 4
  steps from the free state; epsilon = 0.5, beta = 0.5 with a random sign per minibatch; Glorot-uniform
  weights x 1/2, biases 0; alphas 0.1 (W1, hidden bias) and 0.05 (W2, output bias); minibatches of 20;
  50 epochs.
* EqProp: theta <- theta - alpha (dE/dtheta(nudged) - dE/dtheta(free)) / beta, batch means.
* TCL: beta is ramped 0 -> beta through pause_num = 9 values, each a quasi-static snapshot (4 nudged steps
  from the free state). The snapshots of the local signal dE/dtheta are laid on one unit-time cycle (fast
  ramp up over up_frac = 0.1, slow ramp back over 0.9 reusing the same states in reverse), interpolated
  linearly onto time_res = 100 points, convolved periodically with the kernel sin(2 pi k/10)/3 (k = 0..9)
  and divided by time_res, set to zero where |u| < cutoff of its parameter group (cutoffs 1e-5, 2e-4,
  1.2e-6, 2e-5 for hidden bias, output bias, W1, W2) and integrated: estimate = 0.5 trapz(g(u), t) / beta
  * 1e4, theta <- theta - alpha estimate. The update never uses the free state explicitly, only the signal
  history.

Choices made where physics.md is silent or says "inferred":

* rho'(s) is taken as 1 on the closed interval [0, 1] (states never leave it), so a relaxation step is
  s <- clip((1 - epsilon) s + epsilon (b + input), 0, 1), minus 2 epsilon beta (y - target) for the output.
  All layers are updated synchronously from the previous state.
* Time grid t_n = n / time_res (n = 0..99, periodic); snapshot times linspace(0, up_frac, 9) on the way up and
  linspace(up_frac, 1, 9) on the way down (state 8 ... state 0); the kernel is applied centred, like a
  'same'-size periodic convolution: u[n] = sum_j K[j] s[(n + 5 - j) mod 100] / 100; trapz with spacing
  1/time_res over the 100 points (ends weighted 1/2). With this alignment a signal change D that grows
  linearly with beta gives an estimate of 0 x D / beta for D < 195 x cutoff, 0.77-1.7 up to 292 x cutoff,
  2.04-2.29 from 293 to 1754 x cutoff and -0.07 above (`transfer_gain`); physics.md section 2.6 item 4 has
  the same lower edge (294), gain (up to 2.29) and above-window residue (-0.09), and an upper edge of 1000.
* The beta = 0 snapshot is also 4 relaxation steps from the free state (at beta = 0), like every other one.
* Arithmetic: the kernel sums to zero, so a constant offset of the signal drops out and the pipeline is
  evaluated on the changes s_k - s_0 (W1's in float32); parameters whose |u| provably cannot reach the cutoff
  are skipped (`tcl_changes`). Both are exact rewrites of the pipeline (see `tcl_reference`), only faster.
  BLAS runs on one thread: with minibatches of 20 the products are small, and two BLAS threads competing with
  other jobs for two cores ran several times slower.
* Minibatches are reshuffled every epoch with a seeded generator; both methods see the same order, the same
  sign of beta per minibatch and the same initial weights; each has its own persistent particles (all zero
  at the start), for the training and for the validation examples.
* Training error is counted on the free states during the epoch (before each minibatch update), validation
  error after the epoch from 20 free steps of the validation particles, prediction = argmax of the output.
  Epoch 0 is one such evaluation pass before any update (a free phase, so it also moves the particles);
  `seconds` is the time of the training pass (epoch 0: of the evaluation pass over the training set).
* Data: the project's MNIST loader (by default the 10k MNIST test split, first 8,000 to train, last 2,000 held
  out), not the paper's 10,000 + 2,000 examples of the MNIST training split.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from tcl_circuits.errors import DataError, TclCircuitsError
from tcl_circuits.learning.datasets import mnist

INPUTS, HIDDEN, CLASSES = 784, 500, 10
N_IT_NEG, N_IT_POS, EPSILON, BETA = 20, 4, 0.5, 0.5
ALPHAS = {"w1": 0.1, "b_hidden": 0.1, "w2": 0.05, "b_out": 0.05}
BATCH = 20
PAUSE_NUM, UP_FRAC, TIME_RES = 9, 0.1, 100
KERNEL = np.sin(2 * np.pi * np.arange(10) / 10) / 3
CUTOFFS = {"b_hidden": 1e-5, "b_out": 2e-4, "w1": 1.2e-6, "w2": 2e-5}
UPDATE_SCALE = 0.5 * 1e4
METHODS = ("eqprop", "tcl")
OUTPUT_FILES = ("errors.csv", "errors.png")


@dataclass(frozen=True)
class Params:
    """Weights W1 (784, 500), W2 (500, 10) and biases of the hidden and output layers."""

    w1: np.ndarray
    w2: np.ndarray
    b_hidden: np.ndarray
    b_out: np.ndarray

    def step(self, estimate: dict[str, np.ndarray]) -> Params:
        """theta - alpha * estimate for every group (alphas of the paper)."""
        return replace(self, **{k: getattr(self, k) - ALPHAS[k] * v for k, v in estimate.items()})


def init_params(rng: np.random.Generator) -> Params:
    """Glorot-uniform weights times 1/2, zero biases."""

    def glorot(n_in: int, n_out: int) -> np.ndarray:
        limit = np.sqrt(6.0 / (n_in + n_out))
        return 0.5 * rng.uniform(-limit, limit, size=(n_in, n_out))

    return Params(glorot(INPUTS, HIDDEN), glorot(HIDDEN, CLASSES), np.zeros(HIDDEN), np.zeros(CLASSES))


def rho(s: np.ndarray) -> np.ndarray:
    """Hard sigmoid clip(s, 0, 1)."""
    return np.clip(s, 0.0, 1.0)


def relax(
    params: Params,
    drive: np.ndarray,
    h: np.ndarray,
    y: np.ndarray,
    steps: int,
    beta: float | np.ndarray = 0.0,
    target: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`steps` synchronous steps s <- clip(s - epsilon dF/ds) of the hidden and output layers.

    `drive` = x W1 + b_hidden, the clamped input's constant contribution to the hidden layer; `beta` is a
    scalar or a column (rows,1) of nudging strengths for stacked copies of a batch.
    """
    for _ in range(steps):
        grad_h = rho(h) - drive - rho(y) @ params.w2.T
        grad_y = rho(y) - params.b_out - rho(h) @ params.w2
        if target is not None:
            grad_y = grad_y + 2.0 * beta * (y - target)
        h, y = rho(h - EPSILON * grad_h), rho(y - EPSILON * grad_y)
    return h, y


def energy_gradients(x: np.ndarray, h: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Batch means of dE/dtheta: -<rho_pre rho_post> for weights, -<rho> for biases."""
    n = x.shape[0]
    return {
        "w1": -(x.T @ rho(h)) / n,
        "w2": -(rho(h).T @ rho(y)) / n,
        "b_hidden": -rho(h).mean(axis=0),
        "b_out": -rho(y).mean(axis=0),
    }


def onehot(labels: np.ndarray) -> np.ndarray:
    """(n, 10) one-hot targets."""
    return np.eye(CLASSES)[labels]


def eqprop_estimate(
    params: Params, x: np.ndarray, h_free: np.ndarray, y_free: np.ndarray, target: np.ndarray, beta: float
) -> dict[str, np.ndarray]:
    """(dE/dtheta(nudged) - dE/dtheta(free)) / beta, nudged phase started from the free state."""
    drive = x @ params.w1 + params.b_hidden
    h_nudged, y_nudged = relax(params, drive, h_free, y_free, N_IT_POS, beta, target)
    free, nudged = energy_gradients(x, h_free, y_free), energy_gradients(x, h_nudged, y_nudged)
    return {k: (nudged[k] - free[k]) / beta for k in free}


@dataclass(frozen=True)
class Sawtooth:
    """The TCL cycle as linear algebra: u = kernel_matrix @ (9 snapshot values), estimate ~ weights @ g(u)."""

    kernel_matrix: np.ndarray  # (TIME_RES, PAUSE_NUM): u[n] = sum_k kernel_matrix[n, k] s_k
    weights: np.ndarray  # (TIME_RES,): trapz weights, spacing 1/TIME_RES
    step_gain: np.ndarray  # (TIME_RES,): |u[n]| <= step_gain[n] * max_k |s_k - s_(k-1)|
    fast: np.ndarray  # (TIME_RES,) bool: time points reached by the fast ramp (large step_gain)


def sawtooth() -> Sawtooth:
    """The cycle of physics.md 2.4 as a matrix: snapshots -> linear interpolation -> centred kernel."""
    grid = np.arange(TIME_RES) / TIME_RES
    times = np.concatenate([np.linspace(0, UP_FRAC, PAUSE_NUM), np.linspace(UP_FRAC, 1, PAUSE_NUM)[1:]])
    order = np.concatenate([np.arange(PAUSE_NUM), np.arange(PAUSE_NUM - 2, -1, -1)])
    interp = np.stack([np.interp(grid, times, (order == k).astype(float)) for k in range(PAUSE_NUM)], axis=1)
    half = len(KERNEL) // 2
    conv = sum(KERNEL[j] * np.roll(interp, j - half, axis=0) for j in range(len(KERNEL))) / TIME_RES
    weights = np.full(TIME_RES, 1.0 / TIME_RES)
    weights[[0, -1]] /= 2
    # kernel rows sum to 0, so u[n] = sum_l (sum_{k>=l} C[n, k]) (s_l - s_(l-1)), l = 1..8
    step_gain = np.abs(np.cumsum(conv[:, ::-1], axis=1)[:, ::-1][:, 1:]).sum(axis=1)
    return Sawtooth(conv, weights, step_gain, step_gain > 1.5 * np.median(step_gain))


def threshold(u: np.ndarray, cutoff: float) -> np.ndarray:
    """Dead zone g(u) = u where |u| >= cutoff, else 0."""
    return np.where(np.abs(u) >= cutoff, u, 0.0)


def tcl_reference(signals: np.ndarray, saw: Sawtooth, cutoff: float, beta: float) -> np.ndarray:
    """TCL estimate from the (PAUSE_NUM, ...) snapshot signals dE/dtheta, literally: u = C s, g, trapz."""
    u = np.tensordot(saw.kernel_matrix, signals, axes=1)
    return UPDATE_SCALE / beta * np.tensordot(saw.weights, threshold(u, cutoff), axes=1)


def tcl_changes(changes: np.ndarray, saw: Sawtooth, cutoff: float, beta: float) -> np.ndarray:
    """Same as `tcl_reference` for N parameters at once, given their changes (PAUSE_NUM - 1, N) = s_k - s_0.

    The kernel sums to zero, so u does not depend on s_0 itself. |u[n]| <= step_gain[n] * max |step|, so
    u is only computed where it can pass the cutoff: parameters whose largest step is too small are skipped,
    and those that cannot pass on the slow ramp are only evaluated at the fast-ramp time points.
    """
    largest = np.abs(changes[0])
    for before, after in zip(changes[:-1], changes[1:], strict=True):
        np.maximum(largest, np.abs(after - before), out=largest)
    result = np.zeros(changes.shape[1])
    for times in (saw.fast, ~saw.fast):
        need = np.flatnonzero(largest * saw.step_gain[times].max() >= cutoff * (1 - 1e-6))
        if need.size:
            u = saw.kernel_matrix[times, 1:].astype(changes.dtype) @ changes[:, need]
            result[need] += saw.weights[times] @ threshold(u, cutoff)
    return UPDATE_SCALE / beta * result


def tcl_estimate(
    params: Params,
    x: np.ndarray,
    h_free: np.ndarray,
    y_free: np.ndarray,
    target: np.ndarray,
    beta: float,
    saw: Sawtooth,
    cutoffs: dict[str, float] = CUTOFFS,
) -> dict[str, np.ndarray]:
    """TCL estimate of every group: quasi-static snapshots at beta_k = k beta / 8, then kernel + dead zone.

    W1's signal -x^T rho(h_k) / n is linear in rho(h_k), so its changes come from float32 products, for the
    inputs that are not zero throughout the minibatch (the others have no signal).
    """
    n = x.shape[0]
    betas = np.repeat(np.linspace(0.0, beta, PAUSE_NUM), n)[:, None]
    drive = np.tile(x @ params.w1 + params.b_hidden, (PAUSE_NUM, 1))
    h, y = relax(
        params,
        drive,
        np.tile(h_free, (PAUSE_NUM, 1)),
        np.tile(y_free, (PAUSE_NUM, 1)),
        N_IT_POS,
        betas,
        np.tile(target, (PAUSE_NUM, 1)),
    )
    h, y = rho(h).reshape(PAUSE_NUM, n, HIDDEN), rho(y).reshape(PAUSE_NUM, n, CLASSES)
    signals = {
        "w2": -np.matmul(h.transpose(0, 2, 1), y) / n,
        "b_hidden": -h.mean(axis=1),
        "b_out": -y.mean(axis=1),
    }
    estimate = {}
    for key, signal in signals.items():
        changes = (signal[1:] - signal[0]).reshape(PAUSE_NUM - 1, -1)
        estimate[key] = tcl_changes(changes, saw, cutoffs[key], beta).reshape(signal.shape[1:])
    lit = np.flatnonzero(x.any(axis=0))
    w1_changes = np.matmul((-x[:, lit].T / n).astype(np.float32), (h[1:] - h[0]).astype(np.float32))
    estimate["w1"] = np.zeros((x.shape[1], HIDDEN))
    estimate["w1"][lit] = tcl_changes(
        w1_changes.reshape(PAUSE_NUM - 1, -1), saw, cutoffs["w1"], beta
    ).reshape(lit.size, HIDDEN)
    return estimate


def transfer_gain(contrast_over_cutoff: float, saw: Sawtooth | None = None) -> float:
    """Estimate / (D / beta) for one parameter whose signal changes by D linearly in beta over the ramp."""
    saw = saw or sawtooth()
    signals = np.linspace(0.0, contrast_over_cutoff, PAUSE_NUM)
    return float(tcl_reference(signals, saw, 1.0, 1.0)) / contrast_over_cutoff


@dataclass
class Model:
    """One method's parameters and persistent free-state particles (training and validation examples)."""

    method: str
    params: Params
    train_h: np.ndarray
    train_y: np.ndarray
    valid_h: np.ndarray
    valid_y: np.ndarray


def new_model(method: str, params: Params, n_train: int, n_valid: int) -> Model:
    """A model with all particles at zero."""
    return Model(
        method,
        params,
        np.zeros((n_train, HIDDEN)),
        np.zeros((n_train, CLASSES)),
        np.zeros((n_valid, HIDDEN)),
        np.zeros((n_valid, CLASSES)),
    )


def free_phase(params: Params, x: np.ndarray, h: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """n_it_neg free steps from the given particles."""
    return relax(params, x @ params.w1 + params.b_hidden, h, y, N_IT_NEG)


def evaluate(model: Model, x: np.ndarray, labels: np.ndarray, split: str) -> float:
    """Relax the split's particles (free phase, no update) and return the error fraction."""
    h, y = getattr(model, f"{split}_h"), getattr(model, f"{split}_y")
    h, y = free_phase(model.params, x, h, y)
    setattr(model, f"{split}_h", h)
    setattr(model, f"{split}_y", y)
    return float(np.mean(np.argmax(y, axis=1) != labels))


def train_batch(
    model: Model, x: np.ndarray, labels: np.ndarray, index: np.ndarray, beta: float, saw: Sawtooth
) -> int:
    """One minibatch: free phase from the particles, update by the model's method; returns the error count."""
    xb, target = x[index], onehot(labels[index])
    h, y = free_phase(model.params, xb, model.train_h[index], model.train_y[index])
    model.train_h[index], model.train_y[index] = h, y
    if model.method == "eqprop":
        estimate = eqprop_estimate(model.params, xb, h, y, target, beta)
    else:
        estimate = tcl_estimate(model.params, xb, h, y, target, beta, saw)
    model.params = model.params.step(estimate)
    return int(np.sum(np.argmax(y, axis=1) != labels[index]))


def train_epoch(
    model: Model,
    x: np.ndarray,
    labels: np.ndarray,
    order: np.ndarray,
    signs: np.ndarray,
    saw: Sawtooth,
    progress: bool = False,
    desc: str = "",
) -> float:
    """One pass over the minibatches in `order` with the given signs of beta; returns the training error."""
    batches = [order[i : i + BATCH] for i in range(0, len(order), BATCH)]
    if progress:
        batches = tqdm(batches, desc=desc, leave=False, file=sys.stderr)
    errors = sum(
        train_batch(model, x, labels, index, sign * BETA, saw)
        for index, sign in zip(batches, signs, strict=True)
    )
    return errors / len(order)


def schedule(rng: np.random.Generator, n_train: int) -> tuple[np.ndarray, np.ndarray]:
    """One epoch's shuffled example order and the random sign of beta of each minibatch."""
    order = rng.permutation(n_train)
    signs = 2 * rng.integers(0, 2, size=-(-n_train // BATCH)) - 1
    return order, signs


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad command line as one line on stderr, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line; every help text shows its default."""
    parser = ArgumentParser(
        prog="paper_mnist.py",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--data", default=None, help="MNIST IDX folder; unset: $TCL_MNIST_DIR or /work/shared/data/mnist"
    )
    parser.add_argument("--epochs", type=int, default=50, help="training epochs")
    parser.add_argument("--train", type=int, default=8000, help="training images")
    parser.add_argument("--test", type=int, default=2000, help="held-out validation images")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights, minibatch order and signs")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS), help="methods to run")
    parser.add_argument("--out", default="out/paper_mnist", help="output folder (errors.csv, errors.png)")
    args = parser.parse_args(argv)
    for name, low in (("epochs", 1), ("train", 1), ("test", 1)):
        if getattr(args, name) < low:
            parser.error(f"--{name} must be >= {low}, got {getattr(args, name)}")
    args.methods = list(dict.fromkeys(args.methods))
    return args


def prepare_out(folder: Path) -> None:
    """Create the output folder; refuse one that holds anything but this script's own outputs."""
    if folder.exists() and not folder.is_dir():
        raise DataError(f"--out {folder} exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    foreign = sorted(p.name for p in folder.iterdir() if p.name not in OUTPUT_FILES)
    if foreign:
        raise DataError(
            f"--out {folder} holds files that are not this script's outputs: {', '.join(foreign)}"
        )


def write_csv(path: Path, rows: list[dict]) -> None:
    """errors.csv: epoch, method, train_error, validation_error, seconds."""
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=["epoch", "method", "train_error", "validation_error", "seconds"]
        )
        writer.writeheader()
        writer.writerows(rows)


def plot(path: Path, rows: list[dict], methods: list[str]) -> None:
    """errors.png: training (dashed) and validation (solid) error vs epoch, log error axis (0 not drawn)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    fig, ax = plt.subplots(figsize=(7, 4.5))
    colours = {"eqprop": "tab:blue", "tcl": "tab:red"}
    for method in methods:
        own = [r for r in rows if r["method"] == method]
        epochs = [r["epoch"] for r in own]
        for key, style, label in (("train_error", "--", "train"), ("validation_error", "-", "validation")):
            values = [100 * r[key] if r[key] > 0 else np.nan for r in own]
            ax.plot(epochs, values, style, color=colours[method], label=f"{method} {label}")
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    labelled = (0.2, 0.5, 2, 5, 20, 50)
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda value, _: f"{value:g}" if value in labelled else ""))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("error (%)")
    ax.set_title(
        "MNIST 784-500-10: EqProp vs TCL (paper pipeline)\nzero errors are not drawn (log axis)", fontsize=11
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def print_table(rows: list[dict], methods: list[str]) -> None:
    """Both error curves side by side, then the final errors."""
    head = "epoch " + " ".join(f"{m + ' train':>13} {m + ' valid':>13}" for m in methods)
    print("\n" + head)
    by_key = {(r["epoch"], r["method"]): r for r in rows}
    for epoch in sorted({r["epoch"] for r in rows}):
        cells = [
            f"{100 * by_key[epoch, m]['train_error']:12.2f}% "
            f"{100 * by_key[epoch, m]['validation_error']:12.2f}%"
            for m in methods
        ]
        print(f"{epoch:5d} " + " ".join(cells))
    for m in methods:
        last = max((r for r in rows if r["method"] == m), key=lambda r: r["epoch"])
        print(
            f"final {m}: train error {100 * last['train_error']:.2f} %, "
            f"validation error {100 * last['validation_error']:.2f} % (epoch {last['epoch']})"
        )


def run(args: argparse.Namespace) -> list[dict]:
    """Train every method on the same data, initial weights and minibatch schedule; return the error rows."""
    data = mnist(args.data, train=args.train, test=args.test)
    out = Path(args.out)
    prepare_out(out)
    x, labels, xv, labels_v = data.x_train, data.y_train, data.x_test, data.y_test
    params = init_params(np.random.default_rng(args.seed))
    models = [new_model(m, params, len(x), len(xv)) for m in args.methods]
    saw, rows = sawtooth(), []

    def record(epoch: int, model: Model, train_error: float, seconds: float) -> None:
        valid_error = evaluate(model, xv, labels_v, "valid")
        rows.append(
            {
                "epoch": epoch,
                "method": model.method,
                "train_error": train_error,
                "validation_error": valid_error,
                "seconds": round(seconds, 3),
            }
        )

    for model in models:
        start = time.perf_counter()
        record(0, model, evaluate(model, x, labels, "train"), time.perf_counter() - start)
    schedule_rng = np.random.default_rng([args.seed, 1])
    for epoch in range(0, args.epochs + 1):
        if epoch > 0:
            order, signs = schedule(schedule_rng, len(x))
            for model in models:
                start = time.perf_counter()
                desc = f"epoch {epoch} {model.method}"
                error = train_epoch(model, x, labels, order, signs, saw, progress=True, desc=desc)
                record(epoch, model, error, time.perf_counter() - start)
        print(
            f"epoch {epoch:3d}  "
            + "  |  ".join(
                f"{r['method']}: train {100 * r['train_error']:6.2f} %  "
                f"valid {100 * r['validation_error']:6.2f} %"
                f"  ({r['seconds']:.1f} s)"
                for r in rows
                if r["epoch"] == epoch
            ),
            flush=True,
        )
        write_csv(out / "errors.csv", rows)
    plot(out / "errors.png", rows, args.methods)
    print_table(rows, args.methods)
    print(f"wrote {out / 'errors.csv'} and {out / 'errors.png'}")
    return rows


def main(argv: list[str] | None = None) -> int:
    """Entry point: 0 on success, 2 (one line on stderr) on bad input or an unusable output folder."""
    args = parse_args(argv)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            run(args)
    except (TclCircuitsError, OSError) as error:
        print(f"paper_mnist.py: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
