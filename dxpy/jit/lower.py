"""Lowering: a typed function's ``ast`` to LLVM IR (llvmlite.ir).

Two calling conventions.  The entry point (what the dispatcher calls through cffi) is
``i32 f(params..., i64* ret)``: the status is 0 (result in ``ret``), 1
(deoptimise: the dispatcher re-runs the whole call in CPython) or 2 (raise
IndexError, details in ``ret``; see ``ops``), and the result occupies two
i64 slots per scalar (value bits, NumPy tag).  It is a thin wrapper around
the function's *body*, an internal ``fastcc`` function
``{i8 status, results...} f.body(params..., i64* err)`` that compiled
functions call directly.  Why a second convention: recursion (``fib``)
pays for every call, and a result returned in registers with its status
costs no stack slot, store or reload, where the entry convention sends each
result through memory (fib: 0.78x -> 1.18x numba).  Why a status instead of
exceptions: LLVM optimises plain branches well, and one exit serves every
failed speculation.
Parameters are flattened the same way in both: an int or bool is an i64, a
float a double, a scalar whose NumPy tag is decided at run time adds an i1
tag, and an array is ``(i8* data, shape0, shape1, stride0, stride1)`` (byte
strides straight from NumPy, no copy).

Locals live in entry-block allocas that SROA/mem2reg turn into registers, so
they stay unboxed; a non-parameter local also has a "bound" flag so reading
it before assignment deoptimises (CPython raises UnboundLocalError).
"""

from __future__ import annotations

import ast
import ctypes
import weakref
from dataclasses import dataclass
from typing import Callable, Union

import numpy as np
from llvmlite import ir

from .infer import MATH_CONSTS, TypedFunction
from .ops import (AXIS_SHIFT, F64, FALSE, I1, I8, I32, I64, LLVM_TYPES, STATUS,
                  STATUS_OK, TRUE, Ops, Val)
from .types import (Array, Bottom, JitType, JitTypeError, NoneType, Scalar, Tuple,
                    numeric_result)

#: NumPy refuses arrays of more than PY_SSIZE_T_MAX bytes ("array is too big", checked
#: even when another axis is 0), so an 8-byte axis is shorter than 2**60: told to LLVM,
#: this non-negativity and bound let it drop overflow and bounds checks on index math.
MAX_DIM = ir.Constant(I64, 1 << 60)

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Pow: "**"}
_CMPOPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
           ast.NotEq: "!="}


def abi_params(t: JitType) -> list[ir.Type]:
    """The flattened LLVM parameters for one argument of type ``t``."""
    if isinstance(t, Array):
        return [ir.PointerType(I8), I64, I64, I64, I64]
    if isinstance(t, Scalar):
        base = F64 if t.kind == "float" else I64
        return [base, I1] if t.np is None else [base]
    raise JitTypeError(f"parameter of type {t}")


def _flat_params(typed: TypedFunction) -> list[ir.Type]:
    params: list[ir.Type] = []
    for t in typed.argtypes:
        params.extend(abi_params(t))
    return params


def function_type(typed: TypedFunction) -> ir.FunctionType:
    """The entry point's type: its parameters (arrays as objects), then the result pointer."""
    params: list[ir.Type] = []
    for t in typed.argtypes:
        by_object = isinstance(t, Array) and ARRAY_LAYOUT is not None
        params.extend([ir.PointerType(I8)] if by_object else abi_params(t))
    return ir.FunctionType(I32, params + [ir.PointerType(I64)])


def _array_layout() -> tuple[int, int, int] | None:
    """Byte offsets of ``data``, ``dimensions`` and ``strides`` in a NumPy array object.

    Why: the entry point then takes each array as the object itself and reads these
    fields in machine code, instead of the dispatcher computing ``ndarray.ctypes.data``,
    shape and strides in Python (~6 us a call for two arrays).  The fields follow
    ``PyObject_HEAD`` in ``PyArrayObject_fields`` (NumPy's C ABI: ``char *data; int nd;
    npy_intp *dimensions; npy_intp *strides``); the offsets are found and checked on a
    probe array, and None (arrays passed field by field) if anything does not match.
    """
    probe = np.zeros((3, 5))[:, ::2]  # shape (3, 3), strides (40, 16): all distinct
    words = (ctypes.c_uint64 * 12).from_address(id(probe))
    for slot in range(2, 8):
        if words[slot] != probe.ctypes.data:
            continue
        data, nd, dims, strides = (8 * (slot + k) for k in range(4))
        if ctypes.c_int.from_address(id(probe) + nd).value != probe.ndim:
            return None
        for offset, want in ((dims, probe.shape), (strides, probe.strides)):
            pointer = words[offset // 8]
            if not pointer or tuple((ctypes.c_int64 * 2).from_address(pointer)) != want:
                return None
        return data, dims, strides
    return None


ARRAY_LAYOUT = _array_layout()


def entry_cdecl(argtypes: tuple[JitType, ...]) -> list[str]:
    """The C parameter types of an entry point (before the result pointer), for cffi.

    An array is one ``intptr_t``, its object's address (``id``), when the entry
    reads the ``PyArrayObject`` itself; otherwise its data pointer (also passed as
    an ``intptr_t``: the same register as ``i8*``), shape and byte strides."""
    out: list[str] = []
    for t in argtypes:
        if isinstance(t, Array):
            out += ["intptr_t"] if ARRAY_LAYOUT else ["intptr_t"] + ["int64_t"] * 4
        elif isinstance(t, Scalar):
            out.append("double" if t.kind == "float" else "int64_t")
    return out


def entry_flattener(argtypes: tuple[JitType, ...]
                    ) -> Callable[[tuple[object, ...]], list] | None:
    """Argument objects -> entry point arguments when arrays go field by field (pointer,
    shape, byte strides: their layout is unknown); None when the entry takes scalars as
    they are and arrays as their addresses (``id``, written in by the dispatcher)."""
    arrays = frozenset(i for i, t in enumerate(argtypes) if isinstance(t, Array))
    if not arrays or ARRAY_LAYOUT is not None:
        return None

    def flatten(args: tuple[object, ...]) -> list:
        out: list = []
        for i, a in enumerate(args):
            if i not in arrays:
                out.append(a)
                continue
            shape = a.shape + (0,) * (2 - a.ndim)  # type: ignore[attr-defined]
            strides = a.strides + (0,) * (2 - a.ndim)  # type: ignore[attr-defined]
            out += [a.ctypes.data, shape[0], shape[1], strides[0], strides[1]]  # type: ignore
        return out
    return flatten


def result_scalars(t: JitType) -> list[Scalar]:
    """The scalars a function returns, in order (none for ``None``)."""
    if isinstance(t, Tuple):
        return list(t.items)
    return [t] if isinstance(t, Scalar) else []


def body_result_type(t: JitType) -> ir.LiteralStructType:
    """``{i8 status, value (, i1 tag if decided at run time)...}``: returned in registers."""
    fields: list[ir.Type] = [STATUS]
    for item in result_scalars(t):
        fields.append(LLVM_TYPES[item.kind])
        if item.np is None:
            fields.append(I1)
    return ir.LiteralStructType(fields)


#: bodies some compiled function calls (recursion included): never forced inline.
_CALLED: "weakref.WeakSet[ir.Function]" = weakref.WeakSet()


def body_function(entry: ir.Function, typed: TypedFunction) -> ir.Function:
    """The internal fastcc body behind entry point ``entry`` (declared on first request)."""
    module = entry.module
    name = entry.name + ".body"
    if name in module.globals:
        return module.globals[name]
    fnty = ir.FunctionType(body_result_type(typed.return_type),
                           _flat_params(typed) + [ir.PointerType(I64)])
    body = ir.Function(module, fnty, name=name)
    body.linkage = "internal"
    body.calling_convention = "fastcc"
    body.attributes.add("nounwind")
    # err is the dispatcher's result buffer: never an array, written only on failure.
    for attr in ("noalias", "captures(none)"):
        body.args[-1].add_attribute(attr)
    return body


@dataclass
class Slot:
    """Storage of one scalar local: value, optional runtime tag, optional bound flag."""

    t: Scalar
    value: ir.Value
    tag: ir.Value | None
    bound: ir.Value | None


@dataclass
class ArrayVal:
    """An array parameter: data pointer and per-axis shape/byte strides."""

    t: Array
    data: ir.Value
    shape: list[ir.Value]
    strides: list[ir.Value]


Value = Union[Val, list, ArrayVal, None]
#: returns the IR function for a callee (a Dispatcher) at a signature, in this module.
CalleeDeclarer = Callable[[object, tuple[JitType, ...]], tuple[ir.Function, TypedFunction]]


class FunctionLowering:
    """Emits one specialisation of one function into ``module``."""

    def __init__(self, typed: TypedFunction, fn: ir.Function, declare: CalleeDeclarer) -> None:
        self.typed = typed
        self.entry = fn
        self.fn = body_function(fn, typed)
        self.declare = declare
        self.b = ir.IRBuilder(self.fn.append_basic_block("entry"))
        self.ops = Ops(self.b, fn.module, self._fail_edge, self.fn.args[-1])
        self._fail_status: ir.PhiInstr | None = None
        self.locals: dict[str, Slot | list[Slot] | ArrayVal] = {}
        self.loops: list[tuple[ir.Block, ir.Block]] = []
        self.ret_type = body_result_type(typed.return_type)

    def _fail_edge(self, status: ir.Value) -> ir.Block:
        """The body's one failure exit, entered from the current block with ``status``."""
        if self._fail_status is None:
            block = self.fn.append_basic_block("fail")
            with self.b.goto_block(block):
                self._fail_status = self.b.phi(STATUS, "status")
                self.b.ret(self.b.insert_value(ir.Constant(self.ret_type, None),
                                               self._fail_status, 0))
        self._fail_status.add_incoming(status, self.b.block)
        return self._fail_status.parent

    def _alloca(self, ty: ir.Type, name: str) -> ir.Value:
        with self.b.goto_entry_block():
            self.b.position_at_start(self.fn.entry_basic_block)
            return self.b.alloca(ty, name=name)

    def _scalar_slot(self, name: str, t: Scalar, is_param: bool) -> Slot:
        value = self._alloca(LLVM_TYPES[t.kind], name)
        tag = self._alloca(I1, name + ".tag") if t.np is None else None
        bound = None
        if not is_param:
            bound = self._alloca(I1, name + ".bound")
            self.b.store(FALSE, bound)
        return Slot(t, value, tag, bound)

    # -- function -----------------------------------------------------------------
    def lower(self) -> None:
        params = iter(self.fn.args)
        for name, t in zip(self.typed.argnames, self.typed.argtypes):
            if isinstance(t, Array):
                data, s0, s1, st0, st1 = (next(params) for _ in range(5))
                shape = [s0, s1][:t.ndim]
                for size in shape:
                    self.ops.assume(self.b.icmp_unsigned("<", size, MAX_DIM))
                self.locals[name] = ArrayVal(t, data, shape, [st0, st1][:t.ndim])
                continue
            assert isinstance(t, Scalar)
            slot = self._scalar_slot(name, t, True)
            raw = next(params)
            value = self.b.trunc(raw, I1) if t.kind == "bool" else raw
            self.b.store(value, slot.value)
            if slot.tag is not None:
                self.b.store(next(params), slot.tag)
            self.locals[name] = slot
        for name, t in self.typed.locals.items():
            if name in self.locals:
                continue
            if isinstance(t, Scalar):
                self.locals[name] = self._scalar_slot(name, t, False)
            elif isinstance(t, Tuple):
                self.locals[name] = [self._scalar_slot(f"{name}.{i}", item, False)
                                     for i, item in enumerate(t.items)]
            else:
                raise JitTypeError(f"local {name!r} has type {t}")
        self.block(self.typed.node.body)
        if not self.b.block.is_terminated:
            if isinstance(self.typed.return_type, NoneType):
                self.return_values([])
            else:
                self.b.unreachable()
        self.lower_entry()

    def lower_entry(self) -> None:
        """The entry point: call the body, then spill its results to the ``ret`` slots."""
        b = ir.IRBuilder(self.entry.append_basic_block("entry"))
        if self.entry.linkage == "internal":  # a callee's: only its body is ever called
            b.unreachable()
            return
        ret_ptr = self.entry.args[-1]
        args: list[ir.Value] = []
        params = iter(self.entry.args)
        for t in self.typed.argtypes:
            if isinstance(t, Array) and ARRAY_LAYOUT is not None:
                args.extend(unbox_array(b, next(params), t.ndim))
            else:
                args.extend(next(params) for _ in abi_params(t))
        args.append(ret_ptr)  # err: the ret slots
        if self.fn not in _CALLED:
            # Only the entry calls this body (so far; a later compiled call undoes this):
            # inlined before optimisation, it is optimised once, not once alone and again
            # inside the entry (that doubled LLVM's time on loop-heavy functions).
            self.fn.attributes.add("alwaysinline")
        packed = b.call(self.fn, args, cconv="fastcc")
        done = self.entry.append_basic_block("done")
        fail = self.entry.append_basic_block("fail")
        status = b.extract_value(packed, 0)
        b.cbranch(b.icmp_unsigned("!=", status, ir.Constant(STATUS, STATUS_OK)), fail, done)
        b.position_at_end(fail)
        b.ret(b.zext(status, I32))
        b.position_at_end(done)
        for i, val in enumerate(unpack_results(b, packed, self.typed.return_type)):
            write_result(b, ret_ptr, i, val)
        b.ret(ir.Constant(I32, 0))

    # -- statements ---------------------------------------------------------------
    def block(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            if self.b.block.is_terminated:  # code after return/break/continue
                self.b.position_at_end(self.fn.append_basic_block("dead"))
            self.stmt(stmt)

    def stmt(self, s: ast.stmt) -> None:
        if isinstance(s, (ast.Assign, ast.AnnAssign)):
            targets = s.targets if isinstance(s, ast.Assign) else [s.target]
            assert s.value is not None
            value = self.expr(s.value)
            for target in targets:  # CPython's order: the value once, then each target
                self.store(target, value)
        elif isinstance(s, ast.AugAssign):
            self.aug_assign(s)
        elif isinstance(s, ast.If):
            self.if_stmt(s)
        elif isinstance(s, ast.While):
            self.while_stmt(s)
        elif isinstance(s, ast.For):
            self.for_range(s)
        elif isinstance(s, ast.Return):
            self.return_stmt(s)
        elif isinstance(s, ast.Expr):
            if not isinstance(s.value, ast.Constant):
                self.expr(s.value)
        elif isinstance(s, ast.Break):
            self.b.branch(self.loops[-1][1])
        elif isinstance(s, ast.Continue):
            self.b.branch(self.loops[-1][0])

    def aug_assign(self, s: ast.AugAssign) -> None:
        """``x op= v``; for ``a[i] op= v`` the element address is computed once."""
        op = _BINOPS[type(s.op)]
        if isinstance(s.target, ast.Subscript):
            arr, ptr = self.element_ptr(s.target)
            current = Val(self.b.load(ptr), arr.t.element, TRUE)
        else:
            cur = self.expr(s.target)
            assert isinstance(cur, Val)
            current = cur
        rhs = self.scalar(s.value)
        r = numeric_result(current.t, rhs.t)
        result = self.ops.binop(op, current, rhs, Scalar("float", r.np) if op == "/" else r)
        if isinstance(s.target, ast.Subscript):
            self.b.store(self.coerce(result, arr.t.element).v, ptr)
        else:
            self.store(s.target, result)

    def coerce(self, val: Val, t: Scalar) -> Val:
        """Fit ``val`` to a slot of type ``t`` (same kind; only the tag may change form)."""
        if val.t.kind != t.kind:
            if t.kind == "float":
                return Val(self.ops.to_float(val), t, val.tag)
            if t.kind == "int":
                return Val(self.ops.to_int(val), t, val.tag)
            raise JitTypeError(f"cannot store {val.t} as {t}")
        return Val(val.v, t, val.tag)

    def store_slot(self, slot: Slot, val: Val) -> None:
        val = self.coerce(val, slot.t)
        self.b.store(val.v, slot.value)
        if slot.tag is not None:
            self.b.store(val.tag, slot.tag)
        if slot.bound is not None:
            self.b.store(TRUE, slot.bound)

    def store(self, target: ast.expr, value: Value) -> None:
        if isinstance(target, ast.Name):
            slot = self.locals[target.id]
            if isinstance(slot, Slot):
                assert isinstance(value, Val)
                self.store_slot(slot, value)
            elif isinstance(slot, list):
                assert isinstance(value, list)
                for s, v in zip(slot, value):
                    self.store_slot(s, v)
            else:
                raise JitTypeError(f"assignment to array {target.id!r}")
        elif isinstance(target, ast.Tuple):
            assert isinstance(value, list)
            for elt, v in zip(target.elts, value):
                self.store(elt, v)
        elif isinstance(target, ast.Subscript):
            assert isinstance(value, Val)
            arr, ptr = self.element_ptr(target)
            self.b.store(self.coerce(value, arr.t.element).v, ptr)

    def if_stmt(self, s: ast.If) -> None:
        cond = self.condition(s.test)
        then = self.fn.append_basic_block("if.then")
        other = self.fn.append_basic_block("if.else")
        merge = self.fn.append_basic_block("if.end")
        self.b.cbranch(cond, then, other)
        for blk, body in ((then, s.body), (other, s.orelse)):
            self.b.position_at_end(blk)
            self.block(body)
            if not self.b.block.is_terminated:
                self.b.branch(merge)
        self.b.position_at_end(merge)

    def while_stmt(self, s: ast.While) -> None:
        head = self.fn.append_basic_block("while.head")
        body = self.fn.append_basic_block("while.body")
        end = self.fn.append_basic_block("while.end")
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
        assert isinstance(s.iter, ast.Call) and isinstance(s.target, ast.Name)
        args = [self.ops.to_int(self.scalar(a)) for a in s.iter.args]
        zero, one = ir.Constant(I64, 0), ir.Constant(I64, 1)
        if len(args) < 3:
            start, stop = (zero, args[0]) if len(args) == 1 else (args[0], args[1])
            self.counted_loop(s, start, self.below(start, stop),
                              lambda i: self.b.add(i, one, flags=["nsw"]), lambda i: i)
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
                          lambda k: self.b.add(start, self.b.mul(k, step)))

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
                     value: Callable[[ir.Value], ir.Value]) -> None:
        """A loop over counter ``k`` (from ``first``, while ``more(k)``, next ``step(k)``);
        the loop variable gets ``value(k)`` at the top of each iteration."""
        assert isinstance(s.target, ast.Name)
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

    def return_values(self, values: list[Val]) -> None:
        """``ret {i8 0, values...}`` from the body, each value fitted to the return type."""
        packed: ir.Value = ir.Constant(self.ret_type, None)
        packed = self.b.insert_value(packed, ir.Constant(STATUS, STATUS_OK), 0)
        field = 1
        for val, t in zip(values, result_scalars(self.typed.return_type)):
            packed = self.b.insert_value(packed, self.coerce(val, t).v, field)
            field += 1
            if t.np is None:
                packed = self.b.insert_value(packed, val.tag, field)
                field += 1
        self.b.ret(packed)

    def return_stmt(self, s: ast.Return) -> None:
        values: list[Val] = []
        if s.value is not None and not isinstance(self.typed.return_type, NoneType):
            value = self.expr(s.value)
            values = value if isinstance(value, list) else [value]  # type: ignore[list-item]
        self.return_values(values)

    # -- expressions --------------------------------------------------------------
    def condition(self, e: ast.expr) -> ir.Value:
        return self.ops.truth(self.scalar(e))

    def scalar(self, e: ast.expr) -> Val:
        v = self.expr(e)
        if not isinstance(v, Val):
            raise JitTypeError(f"expected a scalar, got {self.typed.exprs.get(e)}")
        return v

    def expr(self, e: ast.expr) -> Value:
        t = self.typed.exprs.get(e)
        if t is None or isinstance(t, Bottom):
            raise JitTypeError(f"untyped expression at line {getattr(e, 'lineno', '?')}")
        if isinstance(e, ast.Constant):
            assert isinstance(t, Scalar)
            return Val(ir.Constant(LLVM_TYPES[t.kind], e.value), t, FALSE)
        if isinstance(e, ast.Name):
            return self.load_name(e.id)
        if isinstance(e, ast.BinOp):
            a, b = self.scalar(e.left), self.scalar(e.right)
            assert isinstance(t, Scalar)
            return self.ops.binop(_BINOPS[type(e.op)], a, b, t)
        if isinstance(e, ast.UnaryOp):
            a = self.scalar(e.operand)
            if isinstance(e.op, ast.Not):
                return Val(self.b.not_(self.ops.truth(a)), Scalar("bool"), FALSE)
            if isinstance(e.op, ast.USub):
                return self.ops.negate(a)
            assert isinstance(t, Scalar)
            return self.coerce(a, t)
        if isinstance(e, ast.BoolOp):
            return self.bool_op(e, t)
        if isinstance(e, ast.Compare):
            return self.compare(e, t)
        if isinstance(e, ast.IfExp):
            return self.branchy(t, e.test, lambda: self.expr(e.body),
                                lambda: self.expr(e.orelse))
        if isinstance(e, ast.Call):
            return self.call(e, t)
        if isinstance(e, ast.Subscript):
            return self.subscript(e)
        if isinstance(e, ast.Attribute):
            if isinstance(t, Scalar):  # math constant
                return Val(ir.Constant(F64, MATH_CONSTS[e.attr]), t, FALSE)
            arr = self.expr(e.value)
            assert isinstance(arr, ArrayVal)
            return [Val(s, Scalar("int"), FALSE) for s in arr.shape]
        if isinstance(e, ast.Tuple):
            return [self.scalar(x) for x in e.elts]
        raise JitTypeError(f"expression {type(e).__name__}")

    def load_slot(self, slot: Slot) -> Val:
        if slot.bound is not None:
            self.ops.guard(self.b.not_(self.b.load(slot.bound)))
        tag = self.b.load(slot.tag) if slot.tag is not None else (
            TRUE if slot.t.np else FALSE)
        return Val(self.b.load(slot.value), slot.t, tag)

    def load_name(self, name: str) -> Value:
        slot = self.locals[name]
        if isinstance(slot, Slot):
            return self.load_slot(slot)
        if isinstance(slot, list):
            return [self.load_slot(s) for s in slot]
        return slot

    def branchy(self, t: JitType, test: ast.expr | ir.Value, then: Callable[[], Value],
                other: Callable[[], Value]) -> Value:
        """A value chosen by control flow (if-expressions, and/or), merged with phis: a
        scalar, or a tuple item by item (``lo, hi = (x, y) if x < y else (y, x)``)."""
        items = list(t.items) if isinstance(t, Tuple) else [t]
        if not all(isinstance(item, Scalar) for item in items):
            raise JitTypeError(f"a conditional value of type {t}")
        cond = self.condition(test) if isinstance(test, ast.expr) else test
        blocks = [self.fn.append_basic_block("sel.a"), self.fn.append_basic_block("sel.b")]
        merge = self.fn.append_basic_block("sel.end")
        self.b.cbranch(cond, blocks[0], blocks[1])
        incoming = []
        for blk, make in zip(blocks, (then, other)):
            self.b.position_at_end(blk)
            made = make()
            vals = made if isinstance(made, list) else [made]
            fitted = [self.coerce(v, item) for v, item in zip(vals, items)]  # type: ignore
            incoming.append((fitted, self.b.block))
            self.b.branch(merge)
        self.b.position_at_end(merge)
        merged = []
        for k, item in enumerate(items):
            assert isinstance(item, Scalar)
            phi = self.b.phi(LLVM_TYPES[item.kind])
            tag = self.b.phi(I1)
            for vals, blk in incoming:
                phi.add_incoming(vals[k].v, blk)
                tag.add_incoming(vals[k].tag, blk)
            merged.append(Val(phi, item, tag))
        return merged if isinstance(t, Tuple) else merged[0]

    def bool_op(self, e: ast.BoolOp, t: JitType) -> Val:
        """``a and b`` is ``a`` if ``a`` is false else ``b`` (values, not bools)."""
        first = self.scalar(e.values[0])
        if len(e.values) == 1:
            return first
        rest = ast.BoolOp(op=e.op, values=e.values[1:])
        self.typed.exprs[rest] = t
        truth = self.ops.truth(first)
        if isinstance(e.op, ast.And):
            return self.branchy(t, truth, lambda: self.expr(rest), lambda: first)  # type: ignore
        return self.branchy(t, truth, lambda: first, lambda: self.expr(rest))  # type: ignore

    def compare(self, e: ast.Compare, t: JitType) -> Val:
        assert isinstance(t, Scalar)
        left = self.scalar(e.left)
        result: Val | None = None
        for op, right_node in zip(e.ops, e.comparators):
            right = self.scalar(right_node)
            tag = self.ops.tag_or(left, right)
            cmp = Val(self.ops.compare(_CMPOPS[type(op)], left, right), t, tag)
            if result is None:
                result = cmp
            else:  # chained: later comparisons only run when earlier ones held
                prev = result
                result = self.branchy(t, prev.v, lambda c=cmp: c, lambda p=prev: p)
            left = right
        assert result is not None
        return result

    def call(self, e: ast.Call, t: JitType) -> Value:
        if e in self.typed.callees:
            return self.call_compiled(e, t)
        func = e.func
        if isinstance(func, ast.Attribute):
            args = [self.scalar(a) for a in e.args]
            assert isinstance(t, Scalar)
            return Val(self.ops.math_call(func.attr, args), t, FALSE)
        assert isinstance(func, ast.Name)
        if func.id == "len":
            arr = self.expr(e.args[0])
            assert isinstance(arr, ArrayVal)
            return Val(arr.shape[0], Scalar("int"), FALSE)
        args = [self.scalar(a) for a in e.args]
        if func.id == "abs":
            return self.ops.abs_(args[0])
        if func.id in ("min", "max"):
            return self.ops.min_max(func.id, args)
        a = args[0]
        if func.id == "float":
            return Val(self.ops.to_float(a), Scalar("float"), FALSE)
        if func.id == "bool":
            return Val(self.ops.truth(a), Scalar("bool"), FALSE)
        value = self.ops.float_to_int(a.v) if a.t.kind == "float" else self.ops.to_int(a)
        return Val(value, Scalar("int"), FALSE)

    def call_compiled(self, e: ast.Call, t: JitType) -> Value:
        target, sig = self.typed.callees[e]
        fn, callee = self.declare(target, sig)
        args: list[ir.Value] = []
        for node, pt in zip(e.args, sig):
            v = self.expr(node)
            if isinstance(v, ArrayVal):
                shape = v.shape + [ir.Constant(I64, 0)] * (2 - len(v.shape))
                strides = v.strides + [ir.Constant(I64, 0)] * (2 - len(v.strides))
                args.extend([v.data, *shape, *strides])
            else:
                assert isinstance(v, Val) and isinstance(pt, Scalar)
                v = self.coerce(v, pt)
                args.append(self.b.zext(v.v, I64) if pt.kind == "bool" else v.v)
                if pt.np is None:
                    args.append(v.tag)
        body = body_function(fn, callee)
        _CALLED.add(body)
        body.attributes.discard("alwaysinline")
        packed = self.b.call(body, args + [self.ops.err], cconv="fastcc")
        status = self.b.extract_value(packed, 0)  # a failure leaves this function the same way
        self.ops.guard(self.b.icmp_unsigned("!=", status, ir.Constant(STATUS, STATUS_OK)), status)
        rt = callee.return_type
        vals = unpack_results(self.b, packed, rt)
        if isinstance(rt, Tuple):
            return vals
        return vals[0] if vals else None

    def element_ptr(self, e: ast.Subscript) -> tuple[ArrayVal, ir.Value]:
        """Address of ``a[i]`` / ``a[i, j]``: negative indices wrap; out of bounds raises
        IndexError (in place, or by deoptimising: ``TypedFunction.exact_index_errors``).
        All indices are evaluated before any is checked, as in CPython."""
        arr = self.expr(e.value)
        assert isinstance(arr, ArrayVal)
        nodes = e.slice.elts if isinstance(e.slice, ast.Tuple) else [e.slice]
        zero = ir.Constant(I64, 0)
        raw = [self.ops.to_int(self.scalar(node)) for node in nodes]
        idx = [self.ops.check_index(i, size, axis, self.typed.exact_index_errors)
               for axis, (i, size) in enumerate(zip(raw, arr.shape))]
        elem = LLVM_TYPES[arr.t.dtype]
        if arr.t.contig:
            flat = idx[0] if len(idx) == 1 else self.b.add(self.b.mul(idx[0], arr.shape[1]),
                                                           idx[1])
            base = self.b.bitcast(arr.data, ir.PointerType(elem))
            return arr, self.b.gep(base, [flat], inbounds=True)
        offset = zero
        for i, stride in zip(idx, arr.strides):
            offset = self.b.add(offset, self.b.mul(i, stride))
        raw = self.b.gep(arr.data, [offset], inbounds=True)
        return arr, self.b.bitcast(raw, ir.PointerType(elem))

    def subscript(self, e: ast.Subscript) -> Value:
        base_t = self.typed.exprs.get(e.value)
        if isinstance(base_t, Tuple):
            items = self.expr(e.value)
            assert isinstance(items, list) and isinstance(e.slice, ast.Constant)
            return items[e.slice.value]
        arr, ptr = self.element_ptr(e)
        return Val(self.b.load(ptr), arr.t.element, TRUE)


def unbox_array(b: ir.IRBuilder, obj: ir.Value, ndim: int) -> list[ir.Value]:
    """``(data, shape0, shape1, stride0, stride1)`` read from a NumPy array object."""
    assert ARRAY_LAYOUT is not None
    data_at, dims_at, strides_at = ARRAY_LAYOUT
    i64p = ir.PointerType(I64)

    def field(offset: int, ty: ir.Type) -> ir.Value:
        return b.load(b.bitcast(b.gep(obj, [ir.Constant(I64, offset)]), ir.PointerType(ty)))

    data = field(data_at, ir.PointerType(I8))
    dims, strides = field(dims_at, i64p), field(strides_at, i64p)
    zero = ir.Constant(I64, 0)
    shape = [b.load(b.gep(dims, [ir.Constant(I64, k)])) if k < ndim else zero for k in (0, 1)]
    steps = [b.load(b.gep(strides, [ir.Constant(I64, k)])) if k < ndim else zero
             for k in (0, 1)]
    return [data, *shape, *steps]


def unpack_results(b: ir.IRBuilder, packed: ir.Value, rt: JitType) -> list[Val]:
    """The scalars of a body's ``{i1 deopt, results...}`` as values with their tags."""
    vals = []
    field = 1
    for t in result_scalars(rt):
        value = b.extract_value(packed, field)
        field += 1
        tag: ir.Value = TRUE if t.np else FALSE
        if t.np is None:
            tag = b.extract_value(packed, field)
            field += 1
        vals.append(Val(value, t, tag))
    return vals


def index_error(index: int, packed: int) -> IndexError:
    """NumPy's IndexError from the two error slots an entry point filled (status 2)."""
    axis, size = packed >> AXIS_SHIFT, packed & ((1 << AXIS_SHIFT) - 1)
    return IndexError(f"index {index} is out of bounds for axis {axis} with size {size}")


def write_result(b: ir.IRBuilder, ptr: ir.Value, index: int, val: Val) -> None:
    """Store scalar ``index`` of an entry point's result as (value bits, NumPy tag) i64s."""
    bits = val.v
    if val.t.kind == "float":
        bits = b.bitcast(bits, I64)
    elif val.t.kind == "bool":
        bits = b.zext(bits, I64)
    b.store(bits, b.gep(ptr, [ir.Constant(I64, 2 * index)]))
    b.store(b.zext(val.tag, I64), b.gep(ptr, [ir.Constant(I64, 2 * index + 1)]))


def declare_function(module: ir.Module, typed: TypedFunction, symbol: str) -> ir.Function:
    """Create the (still empty) entry point for a specialisation; its body comes with it."""
    fn = ir.Function(module, function_type(typed), name=symbol)
    body_function(fn, typed)
    return fn

