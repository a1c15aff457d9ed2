"""Run relunet's benchmark: the same code as `relunet bench` (see src/relunet/bench and docs/bench.md).

    python benchmarks/run.py [--quick] [--cases CASE ...] [--json FILE]
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "src"))

from relunet.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
