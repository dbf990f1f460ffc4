"""What a conventional digital network of the DRN's size reaches on the same MNIST split: the yardstick for the
circuit's accuracy (docs/learning-at-scale.md).

A 784-H-10 perceptron (scikit-learn's MLPClassifier: Adam, minibatches of 200, L2 1e-4) on the pixels in [0, 1],
trained on the first --train images of the shared 10,000-image file and scored on the last --test, per seed and
activation. No circuit is involved.

    python scripts/mnist_reference.py                        # 784-100-10, ReLU and logistic, seeds 0 and 1
    python scripts/mnist_reference.py --hidden 500 --seeds 0
"""

from __future__ import annotations

import argparse
import sys
import warnings

from threadpoolctl import threadpool_limits

from tcl_circuits.cli.options import Parser
from tcl_circuits.errors import TclCircuitsError
from tcl_circuits.learning.datasets import Dataset, mnist

ACTIVATIONS = ("relu", "logistic")


def reference_accuracy(data: Dataset, *, hidden: int, activation: str, seed: int, epochs: int) -> dict:
    """Train one MLP on ``data`` and return its test and train accuracy."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(
        hidden_layer_sizes=(hidden,),
        activation=activation,
        solver="adam",
        alpha=1e-4,
        max_iter=epochs,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed epoch budget, as for the circuit
        model.fit(data.x_train, data.y_train)
    return {
        "activation": activation,
        "seed": seed,
        "test_accuracy": float(model.score(data.x_test, data.y_test)),
        "train_accuracy": float(model.score(data.x_train, data.y_train)),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(
        prog="mnist_reference.py",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--data", default=None, help="MNIST IDX folder; unset: $TCL_MNIST_DIR or ../shared/data/mnist"
    )
    parser.add_argument("--train", type=int, default=8000, help="training images (the first ones)")
    parser.add_argument("--test", type=int, default=2000, help="held-out images (the last ones)")
    parser.add_argument("--hidden", type=int, default=100, help="hidden units (the DRN's hidden nodes)")
    parser.add_argument("--epochs", type=int, default=100, help="passes over the training images")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="seeds of the weights and order")
    parser.add_argument(
        "--activations",
        nargs="+",
        choices=ACTIVATIONS,
        default=list(ACTIVATIONS),
        help="hidden nonlinearities",
    )
    args = parser.parse_args(argv)
    for name in ("train", "test", "hidden", "epochs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Print one row per activation and seed; 0 on success, 2 (one line on stderr) on bad input."""
    args = parse_args(argv)
    try:
        data = mnist(args.data, train=args.train, test=args.test)
    except TclCircuitsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"784-{args.hidden}-10 MLP, {args.train} / {args.test} images, {args.epochs} epochs")
    print(f"{'activation':<10} {'seed':>4} {'test accuracy':>14} {'train accuracy':>15}")
    with threadpool_limits(limits=1, user_api="blas"):
        for activation in args.activations:
            for seed in args.seeds:
                row = reference_accuracy(
                    data, hidden=args.hidden, activation=activation, seed=seed, epochs=args.epochs
                )
                print(
                    f"{activation:<10} {seed:>4} {row['test_accuracy']:>14.2%} {row['train_accuracy']:>15.2%}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
