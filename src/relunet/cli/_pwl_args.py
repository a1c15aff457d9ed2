"""Argument helpers of the pwl commands (regions, knots)."""

import re

# argparse reads "-1,1,-1,1" as an option because its negative-number rule only knows single numbers;
# widen that rule on the command's own parser so that --box -1,1,-1,1 and --interval -3,3 just work.
_NUMBER_LIST = re.compile(r"^-\.?\d[\d.,eE+-]*$")


def allow_negative_lists(parser):
    """Let values like -1,1,-1,1 follow an option of `parser` (a private argparse attribute, guarded)."""
    if hasattr(parser, "_negative_number_matcher"):
        parser._negative_number_matcher = _NUMBER_LIST
