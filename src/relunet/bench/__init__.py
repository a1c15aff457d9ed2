"""relunet bench: relunet's speed measured side by side with PyTorch, scikit-learn and a NumPy floor.

The pieces, one responsibility each:

    cases.py        the registry CASES: what is measured (network, data, steps), one Case per table row
    floor.py        the hand-written NumPy floor: the same maths with no framework
    contenders.py   the registry CONTENDERS: relunet (public API), PyTorch, scikit-learn, the floor
    runner.py       trajectory check, interleaved timed repeats, machine facts
    extra.py        the digits accuracy case and the memory case
    report.py       the table of medians and ratios, and the --json document

    >>> from relunet.bench import run_bench
    >>> result = run_bench(quick=True)          # prints the tables; returns the JSON-able document
"""

from .cases import CASES, Case
from .contenders import CONTENDERS
from .runner import run_bench

__all__ = ["CASES", "Case", "CONTENDERS", "run_bench"]
