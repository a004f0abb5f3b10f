"""``SwissDict``: a Swiss-table mapping with ``dict``'s behaviour.

Layout (after Abseil's flat_hash_map, written from its description):

* ``_ctrl`` -- one control byte per slot, in groups of 16: ``EMPTY`` (0x80),
  ``DELETED`` (0xFE, a tombstone) or, for a full slot, the low 7 bits of
  the key's hash (``h2``).  A lookup reads its group's 16 bytes as one
  128-bit word and finds every slot whose byte equals ``h2`` with a few
  word-wide operations (SWAR: the one vector compare, on Python ints), then
  checks only those slots' keys.  Groups are probed triangularly, which
  visits every group of a power-of-two table.
* ``_slots`` -- per slot, the index of its entry.
* entries -- ``_keys``/``_values``/``_hashes`` in insertion order (deleted
  entries become holes, squeezed out on resize), which is how iteration
  follows ``dict``'s order.

A Python-level table cannot beat ``dict`` one key at a time -- ``dict``'s
lookup is a few dozen C instructions, this one is a few dozen Python
operations (simd_bench measures it: several times slower).  ``get_many`` and
``contains_many`` answer whole batches of int64 keys with NumPy, probing
every key at once, and that is where it is faster.
"""

from __future__ import annotations

import reprlib
from array import array
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, MutableMapping, ValuesView
from typing import Any

from dxpy.simd import swiss_batch

GROUP = 16
EMPTY, DELETED = 0x80, 0xFE
_H2_MASK = 0x7F
_LSB = int.from_bytes(b"\x01" * GROUP, "little")
_LOW7 = _LSB * 0x7F
_MSB = _LSB * 0x80
_HASH_BITS = (1 << 64) - 1
_MIN_GROUPS = 1
_HOLE: Any = object()
"""An entry whose key was deleted."""


def match_byte(word: int, byte: int) -> int:
    """Bit 8*i+7 set exactly where byte ``i`` of the 128-bit ``word`` equals ``byte`` (< 0x80).

    XOR zeroes the matching bytes; adding 0x7F to each byte's low 7 bits sets
    its top bit unless they were all zero, and no carry crosses a byte.
    """
    x = word ^ (byte * _LSB)
    return ~(((x & _LOW7) + _LOW7) | x | _LOW7) & _MSB


def match_empty(word: int) -> int:
    """Top bit set exactly at EMPTY bytes (0x80: top bit set, bit 1 clear; DELETED has bit 1)."""
    return word & ~(word << 6) & _MSB


def match_free(word: int) -> int:
    """Top bit set at EMPTY or DELETED bytes (full slots hold h2 < 0x80)."""
    return word & _MSB


_MIX = 0x9E3779B97F4A7C15
"""Odd 64-bit multiplier (2**64 / golden ratio): spreads ``hash()`` -- the identity on small
ints -- over every bit, so consecutive keys do not share a group."""


def mix(h: int) -> int:
    """The table's 64-bit hash of a Python ``hash()`` (``swiss_batch.mixed_hashes`` on arrays)."""
    m = ((h & _HASH_BITS) * _MIX) & _HASH_BITS
    return m ^ (m >> 32)


def _split(h: int) -> tuple[int, int]:
    """``(h1, h2)``: where to start probing, and the 7-bit tag stored in the control byte."""
    m = mix(h)
    return m >> 7, m & _H2_MASK


class SwissDict(MutableMapping):
    """A ``MutableMapping`` with ``dict``'s semantics (order, views, equality, pickling, repr)."""

    __slots__ = ("_ctrl", "_slots", "_keys", "_values", "_hashes", "_int_keys", "_odd_keys",
                 "_live", "_filled", "_gmask", "_stamp")

    def __init__(self, other: Any = (), /, **kwargs: Any) -> None:
        self._reset(_MIN_GROUPS)
        self.update(other, **kwargs)

    def _reset(self, groups: int) -> None:
        self._ctrl = bytearray([EMPTY]) * (groups * GROUP)
        self._slots = array("q", [-1]) * (groups * GROUP)
        self._keys: list[Any] = []
        self._values: list[Any] = []
        self._hashes: list[int] = []
        self._int_keys = array("q")
        self._odd_keys = 0  # live keys that are not exact int64 ints (the batch path needs none)
        self._live = 0
        self._filled = 0    # full + DELETED slots
        self._stamp = getattr(self, "_stamp", 0) + 1  # bumped by every change to the set of keys
        self._gmask = groups - 1

    # ---- probing ----------------------------------------------------------
    def _find(self, key: Any, h: int) -> int:
        """Slot holding ``key`` (hash ``h``), or -1."""
        return self._probe(key, h, *_split(h))

    def _probe(self, key: Any, h: int, h1: int, h2: int) -> int:
        """``_find`` with the hash already split."""
        ctrl, slots, keys, hashes = self._ctrl, self._slots, self._keys, self._hashes
        group, step = h1 & self._gmask, 0
        while True:
            base = group * GROUP
            word = int.from_bytes(ctrl[base:base + GROUP], "little")
            hits = match_byte(word, h2)
            while hits:
                low = hits & -hits
                slot = base + ((low.bit_length() - 1) >> 3)
                entry = slots[slot]
                if hashes[entry] == h:
                    candidate = keys[entry]
                    if candidate is key or candidate == key:
                        return slot
                hits ^= low
            if match_empty(word):
                return -1
            step += 1
            group = (group + step) & self._gmask

    def _free_slot(self, h1: int) -> int:
        """The first EMPTY or DELETED slot on the probe sequence from ``h1`` (there always is one)."""
        group, step = h1 & self._gmask, 0
        while True:
            base = group * GROUP
            free = match_free(int.from_bytes(self._ctrl[base:base + GROUP], "little"))
            if free:
                return base + (((free & -free).bit_length() - 1) >> 3)
            step += 1
            group = (group + step) & self._gmask

    def _grow_if_full(self) -> None:
        capacity = len(self._ctrl)
        if (self._filled + 1) * 8 <= capacity * 7:
            return
        groups = self._gmask + 1
        while self._live * 16 >= groups * GROUP * 7:  # keep the load under 7/16 after a rehash
            groups *= 2
        self._rehash(groups)

    def _rehash(self, groups: int) -> None:
        """Rebuild the table with ``groups`` groups, squeezing out deleted entries and tombstones."""
        items = [(k, v, h) for k, v, h in zip(self._keys, self._values, self._hashes) if k is not _HOLE]
        self._reset(groups)
        for key, value, h in items:
            h1, h2 = _split(h)
            self._place(key, value, h, h2, self._free_slot(h1))

    def _place(self, key: Any, value: Any, h: int, h2: int, slot: int) -> None:
        if self._ctrl[slot] == EMPTY:
            self._filled += 1
        self._ctrl[slot] = h2
        self._slots[slot] = len(self._keys)
        self._keys.append(key)
        self._values.append(value)
        self._hashes.append(h)
        plain = type(key) is int and -(1 << 63) <= key < (1 << 63)
        self._int_keys.append(key if plain else 0)
        self._odd_keys += not plain
        self._live += 1
        self._stamp += 1

    # ---- the mapping protocol ---------------------------------------------
    def __len__(self) -> int:
        return self._live

    def __getitem__(self, key: Any) -> Any:
        slot = self._find(key, hash(key))
        if slot < 0:
            missing = getattr(type(self), "__missing__", None)
            if missing is not None:
                return missing(self, key)
            raise KeyError(key)
        return self._values[self._slots[slot]]

    def __contains__(self, key: Any) -> bool:
        return self._find(key, hash(key)) >= 0

    def get(self, key: Any, default: Any = None) -> Any:
        slot = self._find(key, hash(key))
        return default if slot < 0 else self._values[self._slots[slot]]

    def __setitem__(self, key: Any, value: Any) -> None:
        h = hash(key)
        h1, h2 = _split(h)
        slot = self._probe(key, h, h1, h2)
        if slot >= 0:
            self._values[self._slots[slot]] = value  # the first key object stays, as in dict
            return
        self._grow_if_full()
        self._place(key, value, h, h2, self._free_slot(h1))

    def __delitem__(self, key: Any) -> None:
        slot = self._find(key, hash(key))
        if slot < 0:
            raise KeyError(key)
        self._remove(slot)

    def _remove(self, slot: int) -> Any:
        entry = self._slots[slot]
        key, value = self._keys[entry], self._values[entry]
        self._ctrl[slot] = DELETED
        self._slots[slot] = -1
        self._keys[entry] = _HOLE
        self._values[entry] = None
        self._odd_keys -= not (type(key) is int and -(1 << 63) <= key < (1 << 63))
        self._live -= 1
        self._stamp += 1
        if len(self._keys) > 2 * self._live + 8:  # mostly holes: squeeze them out
            self._rehash(self._gmask + 1)
        return value

    def __iter__(self) -> Iterator[Any]:
        return self._walk(0)

    def __reversed__(self) -> Iterator[Any]:
        return self._walk(0, backwards=True)

    def _walk(self, part: int, backwards: bool = False) -> Iterator[Any]:
        """Keys (0), values (1) or items (2) in insertion order; changing the keys meanwhile
        raises ``RuntimeError`` as it does for a dict."""
        size, stamp, keys, values = self._live, self._stamp, self._keys, self._values
        order = range(len(keys) - 1, -1, -1) if backwards else range(len(keys))
        for entry in order:
            if self._stamp != stamp:
                break
            key = keys[entry]
            if key is not _HOLE:
                yield key if part == 0 else values[entry] if part == 1 else (key, values[entry])
        if self._live != size:
            raise RuntimeError("SwissDict changed size during iteration")
        if self._stamp != stamp:
            raise RuntimeError("SwissDict keys changed during iteration")

    def keys(self) -> _KeysView:
        return _KeysView(self)

    def values(self) -> _ValuesView:
        return _ValuesView(self)

    def items(self) -> _ItemsView:
        return _ItemsView(self)

    def clear(self) -> None:
        self._reset(_MIN_GROUPS)

    def pop(self, key: Any, *default: Any) -> Any:
        if len(default) > 1:
            raise TypeError(f"pop expected at most 2 arguments, got {1 + len(default)}")
        slot = self._find(key, hash(key))
        if slot < 0:
            if default:
                return default[0]
            raise KeyError(key)
        return self._remove(slot)

    def popitem(self) -> tuple[Any, Any]:
        """The last inserted item, removed (LIFO, as ``dict.popitem``)."""
        for entry in range(len(self._keys) - 1, -1, -1):
            key = self._keys[entry]
            if key is not _HOLE:
                value = self._values[entry]
                self._remove(self._find(key, self._hashes[entry]))
                return key, value
        raise KeyError("popitem(): dictionary is empty")

    def setdefault(self, key: Any, default: Any = None) -> Any:
        h = hash(key)
        h1, h2 = _split(h)
        slot = self._probe(key, h, h1, h2)
        if slot >= 0:
            return self._values[self._slots[slot]]
        self._grow_if_full()
        self._place(key, default, h, h2, self._free_slot(h1))
        return default

    def copy(self) -> SwissDict:
        return SwissDict(self.items())

    __copy__ = copy

    @classmethod
    def fromkeys(cls, keys: Iterable[Any], value: Any = None) -> SwissDict:
        made = cls()
        for key in keys:
            made[key] = value
        return made

    def __or__(self, other: Any) -> SwissDict:
        if not isinstance(other, Mapping):
            return NotImplemented
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other: Any) -> SwissDict:
        if not isinstance(other, Mapping):
            return NotImplemented
        merged = SwissDict(other)
        merged.update(self)
        return merged

    def __ior__(self, other: Any) -> SwissDict:
        self.update(other)
        return self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        if len(other) != self._live:
            return False
        for key, value in self._walk(2):
            try:
                theirs = other[key]
            except KeyError:
                return False
            if not (theirs is value or theirs == value):
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

    @reprlib.recursive_repr("SwissDict({...})")
    def __repr__(self) -> str:
        return "SwissDict({" + ", ".join(f"{k!r}: {v!r}" for k, v in self._walk(2)) + "})"

    def __reduce__(self) -> tuple[Any, ...]:
        return SwissDict, (list(self._walk(2)),)

    # ---- batches ----------------------------------------------------------
    def get_many(self, keys: Any, default: Any = None) -> list[Any]:
        """``[self.get(k, default) for k in keys]``; one vectorised probe for an int64 NumPy array."""
        entries = self._batch_entries(keys)
        if entries is None:
            return [self.get(k, default) for k in keys]
        return swiss_batch.gather(self._values, entries, default)

    def contains_many(self, keys: Any) -> Any:
        """``numpy.ndarray`` of bools: ``k in self`` for each key (vectorised as ``get_many``)."""
        import numpy as np

        entries = self._batch_entries(keys)
        if entries is None:
            return np.array([k in self for k in keys], dtype=bool)
        return entries >= 0

    def _batch_entries(self, keys: Any) -> Any:
        """Entry index per key (-1: absent) when the vectorised probe applies, else ``None``."""
        if self._odd_keys or not swiss_batch.is_int64_array(keys):
            return None
        return swiss_batch.probe(keys, self._ctrl, self._slots, self._int_keys, self._gmask)


class _KeysView(KeysView):
    """``dict_keys``: a set-like live view, iterated in insertion order."""

    def __iter__(self) -> Iterator[Any]:
        return self._mapping._walk(0)

    def __reversed__(self) -> Iterator[Any]:
        return self._mapping._walk(0, backwards=True)


class _ValuesView(ValuesView):
    """``dict_values``: a live view of the values, in insertion order."""

    def __iter__(self) -> Iterator[Any]:
        return self._mapping._walk(1)

    def __reversed__(self) -> Iterator[Any]:
        return self._mapping._walk(1, backwards=True)


class _ItemsView(ItemsView):
    """``dict_items``: a set-like live view of ``(key, value)`` pairs."""

    def __iter__(self) -> Iterator[Any]:
        return self._mapping._walk(2)

    def __reversed__(self) -> Iterator[Any]:
        return self._mapping._walk(2, backwards=True)
