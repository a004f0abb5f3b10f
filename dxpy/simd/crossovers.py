"""Measured crossovers: the input size from which each engine beats the builtin.

Written by ``python benchmarks/simd_bench.py --write-crossovers`` (see
docs/performance.md, "SIMD", for the run); sizes are bytes for string
operations and elements for SimdList ones.  ``None``: the engine never beat
the builtin at any measured size, so the builtin always runs.
"""

CROSSOVERS: dict[str, dict[str, int | None]] = {
    "native": {},
    "numpy": {},
    "scalar": {},
}
