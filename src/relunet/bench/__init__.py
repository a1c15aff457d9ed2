"""relunet bench: relunet's speed measured side by side with PyTorch, JAX, scikit-learn, a NumPy floor and a
hand-written Numba loop.

The pieces, one responsibility each:

    cases.py        the registry CASES: what is measured (network, data, steps), one Case per table row
    floor.py        the hand-written NumPy floor: the same maths with no framework
    numba_loop.py   the hand-written Numba loop: per-sample SGD for one hidden ReLU layer, the compiled limit
    contenders.py   the registry CONTENDERS: relunet (public API), PyTorch, JAX, scikit-learn, the floor, the loop
    runner.py       trajectory check, interleaved timed repeats, machine facts
    extra.py        digits accuracy, memory, the exact geometry, the playground's stream, JIT compilation
    report.py       the table of medians and ratios, and the --json document

    >>> from relunet.bench import run_bench
    >>> result = run_bench(quick=True)          # prints the tables; returns the JSON-able document
"""

from .cases import CASES, Case
from .contenders import CONTENDERS
from .runner import run_bench

__all__ = ["CASES", "Case", "CONTENDERS", "run_bench"]
