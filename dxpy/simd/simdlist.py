"""``SimdList``: a list whose homogeneous contents live unboxed, for vector kernels.

Storage is chosen from the elements: exact ``int`` s that fit int64 go to
an int64 array, ``float`` s to a float64 array, anything else (``bool``,
big ints, mixtures, other objects) to a plain ``list``.  An element that
the storage cannot hold exactly promotes it to ``object`` -- never from
int64 to float64, which would turn ``1`` into ``1.0``.  An empty list
decides afresh from the next element.

Numeric storage is a NumPy array with spare capacity.  ``to_numpy()`` is a
view of it (no copy); while such a view is alive the list refuses to change
length (``BufferError``, as ``bytearray`` and ``array.array`` do), so the
view can never point at freed memory.

Differences from ``list`` (documented, deliberate): numeric storage keeps
values, not objects -- ``x is lst[0]`` is false and, as with ``array.array``,
a NaN never equals itself in ``count``/``index``/``in``.
"""

from __future__ import annotations

import math
import operator
import weakref
from collections.abc import Callable, Iterable, Iterator, MutableSequence
from typing import Any

import numpy as np

from dxpy.simd import exact
from dxpy.simd.engines import choose
from dxpy.simd.kernels import CMP_OPS, FLOAT_MAP_OPS, INT_MAP_OPS

INT64, FLOAT64, OBJECT = "int64", "float64", "object"
_DTYPES = {INT64: np.int64, FLOAT64: np.float64}
_CMP = {"<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
        ">": operator.gt, ">=": operator.ge}
_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
          "//": operator.floordiv, "%": operator.mod, "**": operator.pow}
_ITER_CHUNK = 256


def storage_for(items: list[Any]) -> str:
    """The storage that holds every one of ``items`` exactly."""
    if items and all(exact.fits_int64(x) for x in items):
        return INT64
    if items and all(type(x) is float for x in items):
        return FLOAT64
    return OBJECT if items else INT64


class SimdList(MutableSequence):
    """A ``MutableSequence`` with vectorised ``sum``/``min``/``max``/``filter``/``map``/``index``/``count``."""

    __slots__ = ("_kind", "_buf", "_len", "_items", "_view", "_version", "__weakref__")

    def __init__(self, iterable: Iterable[Any] = ()) -> None:
        self._view: weakref.ref | None = None
        self._version = 0
        self._len = 0
        self._assign(list(iterable))

    # ---- storage --------------------------------------------------------
    def _assign(self, items: list[Any]) -> None:
        """Replace the contents with ``items``, choosing the storage afresh.

        Same numeric kind and room enough: written in place (a live view sees it).
        """
        kind = storage_for(items)
        if kind == getattr(self, "_kind", None) != OBJECT and len(items) <= len(self._buf):
            if len(items) != self._len:
                self._ensure_unexported()
            self._buf[:len(items)] = items
        else:
            self._ensure_unexported()
            self._kind = kind
            if kind == OBJECT:
                self._items, self._buf = items, None
            else:
                self._items = None
                self._buf = np.array(items, dtype=_DTYPES[kind]) if items else np.empty(8, _DTYPES[kind])
        self._len = len(items)
        self._version += 1

    @classmethod
    def _from_array(cls, data: np.ndarray) -> SimdList:
        new = cls.__new__(cls)
        new._view, new._version = None, 0
        new._kind = INT64 if data.dtype == np.int64 else FLOAT64
        new._buf, new._len, new._items = np.ascontiguousarray(data), len(data), None
        return new

    def _ensure_unexported(self) -> None:
        """Refuse to change length or storage while a ``to_numpy()`` view is alive."""
        if self._view is not None and self._view() is not None:
            raise BufferError("SimdList: cannot change length or storage while a to_numpy() view exists")

    def _data(self) -> np.ndarray:
        return self._buf[:self._len]

    def _reserve(self, length: int) -> None:
        self._ensure_unexported()
        if length > len(self._buf):
            grown = np.empty(max(length, 2 * len(self._buf), 8), dtype=self._buf.dtype)
            grown[:self._len] = self._buf[:self._len]
            self._buf = grown

    def _accepts(self, x: Any) -> bool:
        return exact.fits_int64(x) if self._kind == INT64 else type(x) is float

    def _promote(self) -> None:
        """Move numeric storage to ``object`` (an element arrived that it cannot hold)."""
        self._ensure_unexported()
        self._items, self._buf, self._kind = self._data().tolist(), None, OBJECT

    def _admit(self, values: list[Any]) -> None:
        """Make the storage able to hold ``values``: an empty list decides afresh, else promote."""
        if self._kind == OBJECT or not values:
            return
        if self._len == 0:
            kind = storage_for(values)
            if kind != self._kind:
                self._ensure_unexported()
                self._kind = kind
                self._items, self._buf = ([], None) if kind == OBJECT else (None, np.empty(8, _DTYPES[kind]))
        elif not all(self._accepts(x) for x in values):
            self._promote()

    @property
    def storage(self) -> str:
        """``"int64"``, ``"float64"`` or ``"object"``."""
        return self._kind

    def to_numpy(self) -> np.ndarray:
        """The numeric storage as a NumPy array, without copying (``TypeError`` for object storage)."""
        if self._kind == OBJECT:
            raise TypeError("SimdList.to_numpy(): object storage has no numeric array; use tolist()")
        view = self._data()
        self._view = weakref.ref(view)
        return view

    def tolist(self) -> list[Any]:
        """The elements as a ``list`` of Python objects."""
        return list(self._items) if self._kind == OBJECT else self._data().tolist()

    # ---- the sequence protocol ------------------------------------------
    def __len__(self) -> int:
        return self._len

    def _position(self, index: Any, verb: str = "index") -> int:
        i = operator.index(index)
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError(f"list {verb} out of range")
        return i

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            if self._kind == OBJECT:
                return SimdList(self._items[index])
            return SimdList._from_array(self._data()[index].copy())
        if self._kind == OBJECT:
            return self._items[index]
        return self._buf.item(self._position(index))

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            items = self.tolist()
            items[index] = value
            self._assign(items)
            return
        i = self._position(index, "assignment index")
        self._version += 1
        if self._kind != OBJECT and not self._accepts(value):
            self._promote()
        if self._kind == OBJECT:
            self._items[i] = value
        else:
            self._buf[i] = value

    def __delitem__(self, index: Any) -> None:
        if isinstance(index, slice):
            items = self.tolist()
            del items[index]
            self._assign(items)
            return
        i = self._position(index, "assignment index")
        self._ensure_unexported()
        self._version += 1
        if self._kind == OBJECT:
            del self._items[i]
        else:
            self._buf[i:self._len - 1] = self._buf[i + 1:self._len]
        self._len -= 1

    def insert(self, index: Any, value: Any) -> None:
        """``list.insert``: clamps the index like the builtin."""
        i = operator.index(index)
        i = max(0, i + self._len) if i < 0 else min(i, self._len)
        self._admit([value])
        self._version += 1
        if self._kind == OBJECT:
            self._items.insert(i, value)
            self._len = len(self._items)
            return
        self._reserve(self._len + 1)
        self._buf[i + 1:self._len + 1] = self._buf[i:self._len]
        self._buf[i] = value
        self._len += 1

    def append(self, value: Any) -> None:
        self.insert(self._len, value)

    def extend(self, values: Iterable[Any]) -> None:
        new = list(values)
        self._admit(new)
        self._version += 1
        if self._kind == OBJECT:
            self._items.extend(new)
            self._len = len(self._items)
            return
        self._reserve(self._len + len(new))
        self._buf[self._len:self._len + len(new)] = new
        self._len += len(new)

    def __iadd__(self, values: Iterable[Any]) -> SimdList:
        self.extend(values)
        return self

    def pop(self, index: Any = -1) -> Any:
        if not self._len:
            raise IndexError("pop from empty list")
        i = self._position(index, "index")
        value = self[i]
        del self[i]
        return value

    def clear(self) -> None:
        self._assign([])

    def reverse(self) -> None:
        self._version += 1
        if self._kind == OBJECT:
            self._items.reverse()
        else:
            self._data()[:] = self._data()[::-1].copy()

    def __iter__(self) -> Iterator[Any]:
        """Live like a list's iterator: a change during iteration shows from the next element on."""
        if self._kind == OBJECT:
            yield from self._items
            return
        i = 0
        while i < self._len and self._kind != OBJECT:
            version = self._version
            for value in self._buf[i:min(self._len, i + _ITER_CHUNK)].tolist():
                yield value
                i += 1
                if self._version != version:
                    break
        while i < self._len:  # promoted to object storage mid-iteration
            yield self._items[i]
            i += 1

    def __contains__(self, value: Any) -> bool:
        try:
            self.index(value)
        except ValueError:
            return False
        return True

    # ---- comparisons, copies, pickling -----------------------------------
    def __eq__(self, other: object) -> bool:
        if isinstance(other, SimdList):
            if self._kind == other._kind != OBJECT:
                return self._len == other._len and bool(np.array_equal(self._data(), other._data()))
            return self.tolist() == other.tolist()
        if isinstance(other, list):
            return self.tolist() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, as list

    def _ordered(self, other: object, test: Callable[[list, list], bool]) -> bool:
        if isinstance(other, (SimdList, list)):
            return test(self.tolist(), other.tolist() if isinstance(other, SimdList) else other)
        return NotImplemented

    def __lt__(self, other: object) -> bool:
        return self._ordered(other, operator.lt)

    def __le__(self, other: object) -> bool:
        return self._ordered(other, operator.le)

    def __gt__(self, other: object) -> bool:
        return self._ordered(other, operator.gt)

    def __ge__(self, other: object) -> bool:
        return self._ordered(other, operator.ge)

    def __add__(self, other: Iterable[Any]) -> SimdList:
        if not isinstance(other, (SimdList, list)):
            return NotImplemented
        joined = self.copy()
        joined.extend(other)
        return joined

    def __mul__(self, times: int) -> SimdList:
        return SimdList(self.tolist() * times)

    __rmul__ = __mul__

    def __imul__(self, times: int) -> SimdList:
        self._assign(self.tolist() * times)
        return self

    def copy(self) -> SimdList:
        if self._kind == OBJECT:
            return SimdList(self._items)
        return SimdList._from_array(self._data().copy())

    def __repr__(self) -> str:
        return f"SimdList({self.tolist()!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return SimdList, (self.tolist(),)

    # ---- vectorised operations -------------------------------------------
    def _engine(self, op: str):
        """The engine for ``op`` here, or ``None`` (object storage, or below the crossover).

        Crossover names are ``list_<op>`` (``list_sum``, ...), apart from the string ones."""
        return None if self._kind == OBJECT else choose("list_" + op, self._len)

    def sum(self, start: Any = 0) -> Any:
        """``sum(self, start)``: exact ints; floats added left to right, exactly as the builtin does
        (use ``fsum`` for a correctly rounded float sum)."""
        engine = self._engine("sum" if self._kind == INT64 else "sum_float")
        if engine is None or not self._len:
            return sum(self.tolist(), start)
        if self._kind == INT64:
            return engine.sum_i64(self._data()) + start if type(start) is int else sum(self.tolist(), start)
        begin = exact.float_operand(start)
        if begin is None:
            return sum(self.tolist(), start)
        return engine.sum_f64(self._data(), begin)

    def fsum(self) -> float:
        """``math.fsum(self)``: the correctly rounded sum."""
        return math.fsum(self.tolist())

    def min(self, **options: Any) -> Any:
        """``min(self, key=..., default=...)``."""
        return self._extreme(False, options)

    def max(self, **options: Any) -> Any:
        """``max(self, key=..., default=...)``."""
        return self._extreme(True, options)

    def _extreme(self, want_max: bool, options: dict[str, Any]) -> Any:
        builtin = max if want_max else min
        engine = self._engine("max" if want_max else "min")
        if engine is None or not self._len or options.get("key") is not None:
            return builtin(self.tolist(), **options)
        if set(options) - {"key", "default"}:
            return builtin(self.tolist(), **options)  # the builtin's TypeError
        data = self._data()
        if self._kind == INT64:
            return engine.minmax_i64(data, want_max)
        first = float(data[0])
        if first != first:  # a leading NaN is never replaced: nothing compares less than it
            return first
        best = engine.minmax_f64(data, want_max)
        if best == 0.0:  # the first zero wins, with its sign, as in the builtin's scan
            return float(data[engine.index(data, 0.0, 0, self._len)])
        return best

    def filter(self, op: str, value: Any, *, indices: bool = False) -> SimdList:
        """Elements ``x`` with ``x <op> value`` (``op`` in ``< <= == != > >=``), in order;
        ``indices=True``: their positions instead."""
        exact.check_op(op)
        engine = self._engine("filter")
        rewritten = self._comparison(op, value) if engine is not None else None
        if rewritten is None:
            test = _CMP[op]
            items = self.tolist()
            if indices:
                return SimdList([i for i, x in enumerate(items) if test(x, value)])
            return SimdList([x for x in items if test(x, value)])
        if rewritten in (exact.ALL, exact.NONE):
            found = np.arange(self._len if rewritten == exact.ALL else 0, dtype=np.int64)
        else:
            found = engine.filter_indices(self._data(), CMP_OPS[rewritten[0]], rewritten[1])
        return SimdList._from_array(found if indices else self._data()[found])

    def _comparison(self, op: str, value: Any) -> tuple[str, Any] | str | None:
        if self._kind == INT64:
            return exact.int_comparison(op, value)
        return exact.float_comparison(op, value)

    def count(self, value: Any) -> int:
        """``list.count``: how many elements equal ``value``."""
        engine = self._engine("count")
        rewritten = self._comparison("==", value) if engine is not None else None
        if rewritten is None:
            return self.tolist().count(value) if self._kind != OBJECT else self._items.count(value)
        if rewritten == exact.NONE:
            return 0
        return engine.count_cmp(self._data(), CMP_OPS["=="], rewritten[1])

    def index(self, value: Any, start: Any = 0, stop: Any = None) -> int:
        """``list.index``: the first position of ``value`` in ``self[start:stop]``."""
        engine = self._engine("index")
        rewritten = self._comparison("==", value) if engine is not None else None
        if rewritten is None:
            items = self._items if self._kind == OBJECT else self.tolist()
            return items.index(value, start, self._len if stop is None else stop)
        lo, hi, _ = slice(start, stop).indices(self._len)
        at = -1 if rewritten == exact.NONE or lo >= hi else engine.index(self._data(), rewritten[1], lo, hi)
        if at < 0:
            raise ValueError(f"{value!r} is not in list")
        return at

    def sort(self, *, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> None:
        """``list.sort``: stable; numeric storage sorts in place without boxing."""
        self._version += 1
        data = self._data() if self._kind != OBJECT else None
        if data is None or key is not None or (self._kind == FLOAT64 and bool(np.isnan(data).any())):
            if self._kind == OBJECT:
                self._items.sort(key=key, reverse=reverse)
                return
            items = self.tolist()
            items.sort(key=key, reverse=reverse)  # NaN makes the builtin's order its own: keep it
            data[:] = items
            return
        # list.sort(reverse=True) is: reverse, stable sort, reverse (equal keys keep their order)
        source = data[::-1] if reverse else data
        ordered = np.sort(source, kind="stable")
        data[:] = ordered[::-1] if reverse else ordered

    def map(self, op: str, value: Any) -> SimdList:
        """``SimdList(x <op> value for x in self)`` for ``op`` in ``+ - * / // % **``: Python's
        results exactly (ints that leave int64 become Python ints, errors are Python's)."""
        if op not in _ARITH:
            raise ValueError(f"unknown arithmetic operator {op!r}: expected one of {', '.join(_ARITH)}")
        engine = self._engine("map")
        result = self._map_kernel(engine, op, value) if engine is not None and self._len else None
        if result is None:
            apply = _ARITH[op]
            return SimdList([apply(x, value) for x in self.tolist()])
        return SimdList._from_array(result)

    def _map_kernel(self, engine: Any, op: str, value: Any) -> np.ndarray | None:
        data = self._data()
        if op in ("/", "//", "%") and value == 0 and type(value) in (int, float, bool):
            _ARITH[op](data.item(0), value)  # raises Python's ZeroDivisionError
        if self._kind == INT64 and exact.fits_int64(value if type(value) is not bool else int(value)) \
                and op in INT_MAP_OPS:
            return engine.map_i64(data, INT_MAP_OPS[op], int(value))
        if self._kind == INT64 and op == "/" and type(value) in (int, bool):
            small = abs(int(value)) <= exact.EXACT_FLOAT_INT
            bound = max(-int(data.min()), int(data.max())) <= exact.EXACT_FLOAT_INT
            return engine.map_f64(data.astype(np.float64), FLOAT_MAP_OPS["/"], float(value)) if small and bound else None
        operand = exact.float_operand(value) if (type(value) is float or self._kind == FLOAT64) else None
        if operand is None:
            return None
        floats = data if self._kind == FLOAT64 else data.astype(np.float64)
        return engine.map_f64(floats, FLOAT_MAP_OPS[op], operand)


from dxpy.simd import list_front  # noqa: E402 - it needs the class

list_front.install(SimdList)
