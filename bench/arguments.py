"""Command-line argument types the benchmark scripts share (run as scripts, they import it from bench/)."""

import argparse


def positive(text: str) -> int:
    """A count that must be at least 1: zero seeds or epochs would divide by zero far from the cause."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
