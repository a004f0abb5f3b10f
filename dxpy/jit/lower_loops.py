"""Loop lowering for ``lower.FunctionLowering``: ``for`` over ranges and
arrays, ``while``, loop ``else`` clauses, and the overflow prechecks and
deferred checks of counted loops (``speculation``).

A mixin rather than a module of functions because every step reads and
extends the function being lowered (its builder, slots, failure edges);
``lower.py`` keeps statements and expressions.  ``Slot`` (a scalar local's
storage) lives here because both halves use it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable

from llvmlite import ir

from .elements import ArrayVal, element_address, load_element, widen
from .lists import ListVal, checked_index, load_item
from .infer import array_iterables, is_call_of
from .ops import ELEMENT_TYPES, FALSE, I1, I64, Val
from .speculation import accumulators, counters, delta_range, element_accumulators
from .types import DTYPES, Scalar

I128 = ir.IntType(128)


@dataclass
class Slot:
    """Storage of one scalar local: value, optional runtime tag, optional bound flag."""

    t: Scalar
    value: ir.Value
    tag: ir.Value | None
    bound: ir.Value | None


@dataclass
class LoopChecks:
    """How the accumulators of one enclosing loop are checked (``speculation``)."""

    sticky: frozenset[str]  # overflow bits OR-ed into ``flag``, tested at the exit
    flag: ir.Value | None
    proven: frozenset[str]  # pre-checked over the trip count: no checks at all
    counters: dict[str, tuple[int, ir.Value]]  # name -> (sign, value at the loop's entry)
    #: array -> i1: its element updates (``a[i] += v``) cannot overflow in this run
    elements: dict[str, ir.Value]


class LoopLowering:
    """The loop statements of a function being lowered."""

    def enter_loop(self, s: ast.For | ast.While, trips: ir.Value | None = None) -> None:
        """Find the loop's accumulators (``speculation``): those a pre-check over the
        trip count proves safe need no checks, Python-int counters are compared with
        their entry value at the exit, the others get a sticky flag."""
        ints = {name for name, t in self.typed.locals.items()
                if isinstance(t, Scalar) and t.kind == "int"}
        names = accumulators(s, ints)
        proven = frozenset(name for name in names if trips is not None
                           and isinstance(s, ast.For) and self.precheck(s, name, trips))
        entry_values = {}
        for name, sign in counters(s, names - proven).items():
            slot = self.locals.get(name)
            if isinstance(slot, Slot) and slot.t.np is False:
                entry_values[name] = (sign, self.b.load(slot.value))
        flag = None
        if names - proven - entry_values.keys():
            flag = self._alloca(I1, "sticky")
            self.b.store(FALSE, flag)
        elements = self.element_prechecks(s, trips) if isinstance(s, ast.For) \
            and trips is not None else {}
        self.loop_checks.append(LoopChecks(names - proven - entry_values.keys(), flag, proven,
                                           entry_values, elements))

    def element_prechecks(self, s: ast.For, trips: ir.Value) -> dict[str, ir.Value]:
        """For the 1-d integer array whose elements ``s`` only moves by bounded steps
        (``speculation.element_accumulators``): an i1 that is true when no update in
        this run of the loop can leave the dtype's range, so its checks can go.  Not a
        deopt when false: the checked updates run instead (LLVM unswitches the loop on
        it).  The array's min and max are read only when it has no more elements than
        the loop has iterations, so the scan never costs more than the loop."""
        out = {}
        for name, (lo, hi) in element_accumulators(s, self.typed.exprs).items():
            arr = self.locals.get(name)
            if not isinstance(arr, ArrayVal) or arr.t.ndim != 1:
                continue
            info = DTYPES[arr.t.dtype]
            if info.kind != "int" or (info.bits == 64 and not info.signed):
                continue
            out[name] = self.moves_within(arr, lo, hi, trips)
        return out

    def moves_within(self, arr: ArrayVal, lo: int, hi: int, trips: ir.Value) -> ir.Value:
        """Whether every element of 1-d ``arr`` stays in its dtype after ``trips`` steps
        of at least ``lo`` and at most ``hi`` each: ``min + trips * lo >= dtype min`` and
        ``max + trips * hi <= dtype max``, in i128 (no overflow on the way)."""
        b, info = self.b, DTYPES[arr.t.dtype]
        n = arr.shape[0]
        before = b.block
        head = self.fn.append_basic_block("scan.head")
        body = self.fn.append_basic_block("scan.body")
        end = self.fn.append_basic_block("scan.end")
        done = self.fn.append_basic_block("scan.done")
        b.cbranch(b.icmp_unsigned("<=", n, trips), head, done)
        b.position_at_end(head)
        k, low, high = b.phi(I64, "k"), b.phi(I64, "min"), b.phi(I64, "max")
        for phi in (k, low, high):
            phi.add_incoming(ir.Constant(I64, 0), before)
        b.cbranch(b.icmp_unsigned("<", k, n), body, end)
        b.position_at_end(body)
        elem = ir.PointerType(ELEMENT_TYPES[arr.t.dtype])
        ptr = b.gep(b.bitcast(arr.data, elem), [k], inbounds=True) if arr.t.contig else \
            b.bitcast(b.gep(arr.data, [b.mul(k, arr.strides[0])], inbounds=True), elem)
        x = widen(self.ops, arr.t.dtype, b.load(ptr)).v
        low.add_incoming(b.select(b.icmp_signed("<", x, low), x, low), body)
        high.add_incoming(b.select(b.icmp_signed(">", x, high), x, high), body)
        k.add_incoming(b.add(k, ir.Constant(I64, 1), flags=["nuw", "nsw"]), body)
        b.branch(head)
        b.position_at_end(end)
        span = b.zext(trips, I128)
        top = b.add(b.sext(high, I128), b.mul(span, ir.Constant(I128, hi)))
        bottom = b.add(b.sext(low, I128), b.mul(span, ir.Constant(I128, lo)))
        fits = b.and_(b.icmp_signed("<=", top, ir.Constant(I128, info.hi)),
                      b.icmp_signed(">=", bottom, ir.Constant(I128, info.lo)))
        b.branch(done)
        b.position_at_end(done)
        ok = b.phi(I1, "moves.within")
        ok.add_incoming(FALSE, before)
        ok.add_incoming(fits, end)
        return ok

    def precheck(self, s: ast.For, name: str, trips: ir.Value) -> bool:
        """Deoptimise now unless accumulator ``name`` stays in its type's range for
        ``trips`` iterations of ``s``; False when its increments are not bounded."""
        slot = self.locals.get(name)
        if not isinstance(slot, Slot) or slot.t.np is None:
            return False
        bounds = delta_range(s, name, self.typed.exprs)
        if bounds is None:
            return False
        saved, self.ops.pending = self.ops.pending, None
        start = self.b.load(slot.value)
        self.ops.guard(self.b.icmp_signed("<", trips, ir.Constant(I64, 0)))
        ends = [self.ops.checked("sadd", start, self.ops.checked(
            "smul", trips, ir.Constant(I64, bound))) for bound in bounds]
        info = slot.t.info
        if info is not None:
            self.ops.guard(self.b.icmp_signed("<", ends[0], ir.Constant(I64, info.lo)))
            self.ops.guard(self.b.icmp_signed(">", ends[1], ir.Constant(I64, info.hi)))
        self.ops.pending = saved
        return True

    def leave_loop(self) -> None:
        """At the loop's exit: deoptimise if an accumulator overflowed in it."""
        checks = self.loop_checks.pop()
        if checks.flag is not None:
            self.ops.guard(self.b.load(checks.flag))
        for name, (sign, start) in checks.counters.items():
            slot = self.locals[name]
            assert isinstance(slot, Slot)
            final = self.b.load(slot.value)
            self.ops.guard(self.b.icmp_signed("<" if sign > 0 else ">", final, start))

    def while_stmt(self, s: ast.While) -> None:
        head = self.fn.append_basic_block("while.head")
        body = self.fn.append_basic_block("while.body")
        end = self.fn.append_basic_block("while.end")
        self.enter_loop(s)
        self.b.branch(head)
        self.b.position_at_end(head)
        self.b.cbranch(self.condition(s.test), body, self.loop_else(s, end))
        self.b.position_at_end(body)
        self.loops.append((head, end))
        self.block(s.body)
        self.loops.pop()
        if not self.b.block.is_terminated:
            self.b.branch(head)
        self.b.position_at_end(end)
        self.leave_loop()

    def loop_else(self, s: ast.While | ast.For, end: ir.Block) -> ir.Block:
        """Where a loop goes when its test fails: its ``else`` clause (which then
        continues at ``end``), or ``end`` itself; ``break`` always goes to ``end``."""
        if not s.orelse:
            return end
        orelse = self.fn.append_basic_block("loop.else")
        resume = self.b.block
        self.b.position_at_end(orelse)
        self.block(s.orelse)
        if not self.b.block.is_terminated:
            self.b.branch(end)
        self.b.position_at_end(resume)
        return orelse

    def for_range(self, s: ast.For) -> None:
        """range() as a counted loop.  Without a step: ``for (i = start; i < stop; i++)``,
        whose ``i < stop`` in the body lets LLVM prove ``a[i + 1]``-style bounds and
        overflow checks away.  With a step: a trip count first (unsigned, overflow-free)."""
        if not (isinstance(s.iter, ast.Call) and isinstance(s.iter.func, ast.Name)
                and s.iter.func.id == "range"):
            self.for_arrays(s)
            return
        assert isinstance(s.target, ast.Name)
        args = [self.ops.to_int(self.scalar(a)) for a in s.iter.args]
        zero, one = ir.Constant(I64, 0), ir.Constant(I64, 1)
        if len(args) < 3:
            start, stop = (zero, args[0]) if len(args) == 1 else (args[0], args[1])
            trips = self.b.select(self.b.icmp_signed(">", stop, start),
                                  self.b.sub(stop, start), zero)  # negative: > 2**63 trips
            self.counted_loop(s, start, self.below(start, stop),
                              lambda i: self.b.add(i, one, flags=["nsw"]), lambda i: i, trips)
            return
        start, stop, step = args
        self.ops.guard(self.b.icmp_signed("==", step, zero))  # ValueError in CPython
        up = self.b.icmp_signed(">", step, zero)
        lo = self.b.select(up, start, stop)
        hi = self.b.select(up, stop, start)
        span = self.b.sub(hi, lo)  # as unsigned: exact when hi > lo
        mag = self.b.select(up, step, self.b.sub(zero, step))
        trips = self.b.add(self.b.udiv(self.b.sub(span, one), mag), one)
        trips = self.b.select(self.b.icmp_signed(">", hi, lo), trips, zero)
        self.counted_loop(s, zero, lambda k: self.b.icmp_unsigned("<", k, trips),
                          lambda k: self.b.add(k, one, flags=["nuw"]),
                          lambda k: self.stepped_value(start, stop, step, up, k), trips)

    def for_arrays(self, s: ast.For) -> None:
        """A counted loop over the shortest array's length (``infer.for_arrays``); the
        target gets ``a[k]`` (with ``k`` first for enumerate) at each iteration."""
        arrays = [self.expr(node) for node in array_iterables(s.iter)]
        assert all(isinstance(a, (ArrayVal, ListVal)) for a in arrays)
        sizes = [ir.Constant(I64, a.t.size) if isinstance(a, ListVal) else a.shape[0]  # type: ignore
                 for a in arrays]
        n = sizes[0]
        for size in sizes[1:]:
            n = self.b.select(self.b.icmp_signed("<", size, n), size, n)
        zero, one = ir.Constant(I64, 0), ir.Constant(I64, 1)
        counted = is_call_of(s.iter, "enumerate")

        def item(a: ArrayVal | ListVal, k: ir.Value) -> Val:
            if isinstance(a, ListVal):  # CPython's list iterator reads the list each step
                return load_item(self.b, a, checked_index(self.ops, a, k))
            return load_element(self.ops, a.t, element_address(self.ops, a, [k], False))

        def bind(k: ir.Value) -> None:
            items = [item(a, k) for a in arrays]  # type: ignore[arg-type]
            if counted:
                items.insert(0, Val(k, Scalar("int"), FALSE))
            single = len(items) == 1 and not is_call_of(s.iter, "zip")
            self.store(s.target, items[0] if single else items)
        self.counted_loop(s, zero, lambda k: self.b.icmp_unsigned("<", k, n),
                          lambda k: self.b.add(k, one, flags=["nuw"]), None, n, bind)

    def stepped_value(self, start: ir.Value, stop: ir.Value, step: ir.Value, up: ir.Value,
                      k: ir.Value) -> ir.Value:
        """``start + k * step`` for a counter ``k`` below the trip count, with what that
        implies told to LLVM (between start and stop), so ``a[j]`` for ``j`` in
        ``range(i * i, len(a), i)`` needs no bounds check."""
        value = self.b.add(start, self.b.mul(k, step))
        within_up = self.b.and_(self.b.icmp_signed("<", value, stop),
                                self.b.icmp_signed(">=", value, start))
        within_down = self.b.and_(self.b.icmp_signed(">", value, stop),
                                  self.b.icmp_signed("<=", value, start))
        self.ops.assume(self.b.select(up, within_up, within_down))
        return value

    def below(self, start: ir.Value, stop: ir.Value) -> Callable[[ir.Value], ir.Value]:
        """The loop test ``i < stop`` for ``i`` counting up from ``start``.  For ``range(n)``
        it is written unsigned, ``i <u max(n, 0)`` (the same iterations): why: that tells
        LLVM's range analysis ``i >= 0``, which it cannot see through the loop's phi, and
        then it drops overflow and zero checks on index arithmetic such as
        ``(i + j) * (i + j + 1) // 2 + i + 1`` (spectral_norm: 4 of 5 checks).  Not for
        other starts: measured, it doubled stencil's code and compile time for no gain."""
        if isinstance(start, ir.Constant) and start.constant == 0:
            bound = self.b.select(self.b.icmp_signed(">", stop, start), stop, start)
            return lambda i: self.b.icmp_unsigned("<", i, bound)
        return lambda i: self.b.icmp_signed("<", i, stop)

    def counted_loop(self, s: ast.For, first: ir.Value, more: Callable[[ir.Value], ir.Value],
                     step: Callable[[ir.Value], ir.Value],
                     value: Callable[[ir.Value], ir.Value] | None, trips: ir.Value,
                     bind: Callable[[ir.Value], None] | None = None) -> None:
        """A loop over counter ``k`` (from ``first``, while ``more(k)``, next ``step(k)``),
        ``trips`` iterations; at the top of each the loop variable gets ``value(k)`` (or
        ``bind(k)`` stores the targets)."""
        self.enter_loop(s, trips)
        pre = self.b.block
        head = self.fn.append_basic_block("for.head")
        body = self.fn.append_basic_block("for.body")
        latch = self.fn.append_basic_block("for.latch")
        end = self.fn.append_basic_block("for.end")
        self.b.branch(head)
        self.b.position_at_end(head)
        k = self.b.phi(I64, "k")
        k.add_incoming(first, pre)
        self.b.cbranch(more(k), body, self.loop_else(s, end))
        self.b.position_at_end(body)
        if bind is not None:
            bind(k)
        else:
            assert isinstance(s.target, ast.Name) and value is not None
            slot = self.locals[s.target.id]
            assert isinstance(slot, Slot)
            self.store_slot(slot, Val(value(k), slot.t, FALSE))
        self.loops.append((latch, end))
        self.block(s.body)
        self.loops.pop()
        if not self.b.block.is_terminated:
            self.b.branch(latch)
        self.b.position_at_end(latch)
        k.add_incoming(step(k), latch)
        self.b.branch(head)
        self.b.position_at_end(end)
        self.leave_loop()
