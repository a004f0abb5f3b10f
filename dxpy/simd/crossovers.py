"""Measured crossovers and the dispatch plan built from them.

Written by ``python benchmarks/simd_bench.py --write-crossovers`` (see
docs/performance.md, "SIMD", for the run and how to re-measure); sizes are
bytes for string operations and elements for SimdList ones (``list_*``).

``CROSSOVERS[engine][op]``: the smallest measured size from which that
engine beat the builtin (by 10%) at every larger measured size; ``None``:
never.  Used alone when the plan names an engine that did not load.
``PLAN[op]``: ``(from_size, engine)`` steps, the fastest option at each
measured size (``None``: the builtin).  An operation in neither table
always runs the builtin.
"""

CROSSOVERS: dict[str, dict[str, int | None]] = {
    'native': {
        'count': 65536,
        'count_lines': 65536,
        'endswith': None,
        'equal': None,
        'find': 65536,
        'find_all': 65536,
        'list_count': 1000,
        'list_filter': 1000,
        'list_index': 1000,
        'list_map': 1000,
        'list_max': 1000,
        'list_min': 1000,
        'list_sum': 1000,
        'list_sum_float': 1000,
        'lower': 65536,
        'lower_str': None,
        'replace': None,
        'rfind': 65536,
        'split': None,
        'split_ws': None,
        'splitlines': None,
        'startswith': None,
        'upper': 65536,
        'upper_str': None,
    },
    'numpy': {
        'count': 65536,
        'count_lines': 65536,
        'endswith': None,
        'equal': None,
        'find': None,
        'find_all': None,
        'list_count': 1000,
        'list_filter': 1000,
        'list_index': 1000,
        'list_map': 1000,
        'list_max': 1000,
        'list_min': 1000,
        'list_sum': 10000,
        'list_sum_float': 100000,
        'lower': None,
        'lower_str': None,
        'replace': None,
        'rfind': None,
        'split': None,
        'split_ws': None,
        'splitlines': None,
        'startswith': None,
        'upper': None,
        'upper_str': None,
    },
    "scalar": {},
}

PLAN: dict[str, list[tuple[int, str | None]]] = {
    'count': [(16, None), (65536, 'native')],
    'count_lines': [(16, None), (65536, 'native')],
    'endswith': [],
    'equal': [],
    'find': [(16, None), (65536, 'native')],
    'find_all': [(16, None), (65536, 'native')],
    'list_count': [(10, None), (1000, 'native'), (10000, 'numpy'), (10000000, 'native')],
    'list_filter': [(10, None), (1000, 'native'), (10000, 'numpy'), (100000, 'native')],
    'list_index': [(10, None), (1000, 'native')],
    'list_map': [(10, None), (1000, 'native'), (100000, 'numpy'), (1000000, 'native')],
    'list_max': [(10, None), (1000, 'native')],
    'list_min': [(10, None), (1000, 'native')],
    'list_sum': [(10, None), (1000, 'native')],
    'list_sum_float': [(10, None), (1000, 'native')],
    'lower': [(16, None), (65536, 'native')],
    'lower_str': [(16, None), (65536, 'native'), (16777216, None)],
    'replace': [],
    'rfind': [(16, None), (65536, 'native')],
    'split': [(16, None), (1048576, 'native'), (16777216, None)],
    'split_ws': [],
    'splitlines': [(16, None), (1048576, 'native'), (16777216, None)],
    'startswith': [],
    'upper': [(16, None), (65536, 'native')],
    'upper_str': [(16, None), (65536, 'native'), (67108864, None)],
}
