"""Lowering: a typed function's ``ast`` to LLVM IR (llvmlite.ir).

The calling convention, shared by entry points and calls between compiled
functions: ``i32 f(params..., i64* ret)``.  The status is 0 (result in
``ret``) or 1 (deoptimise: the caller propagates it and the dispatcher
re-runs the whole call in CPython).  Why a status word instead of
exceptions: LLVM optimises plain branches well, and one deopt path serves
every failed speculation.  Parameters are flattened: an int or bool is an
i64, a float a double, a scalar whose NumPy tag is decided at run time adds
an i1 tag, and an array is ``(i8* data, shape0, shape1, stride0, stride1)``
(byte strides straight from NumPy, no copy).  The result occupies two i64
slots per scalar (value bits, NumPy tag).

Locals live in entry-block allocas that SROA/mem2reg turn into registers, so
they stay unboxed; a non-parameter local also has a "bound" flag so reading
it before assignment deoptimises (CPython raises UnboundLocalError).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable, Union

from llvmlite import ir

from .infer import MATH_CONSTS, TypedFunction
from .ops import F64, FALSE, I1, I8, I32, I64, LLVM_TYPES, TRUE, Ops, Val
from .types import (Array, Bottom, JitType, JitTypeError, NoneType, Scalar, Tuple,
                    numeric_result)

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


def result_slots(t: JitType) -> int:
    """How many scalars the result holds (each takes two i64 slots)."""
    if isinstance(t, Tuple):
        return len(t.items)
    return 0 if isinstance(t, NoneType) else 1


def function_type(typed: TypedFunction) -> ir.FunctionType:
    params: list[ir.Type] = []
    for t in typed.argtypes:
        params.extend(abi_params(t))
    params.append(ir.PointerType(I64))
    return ir.FunctionType(I32, params)


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
        self.fn = fn
        self.declare = declare
        entry = fn.append_basic_block("entry")
        self.b = ir.IRBuilder(entry)
        self.ops = Ops(self.b, fn.module, self._deopt_block)
        self._deopt: ir.Block | None = None
        self.locals: dict[str, Slot | list[Slot] | ArrayVal] = {}
        self.loops: list[tuple[ir.Block, ir.Block]] = []
        self.ret_ptr = fn.args[-1]

    def _deopt_block(self) -> ir.Block:
        if self._deopt is None:
            self._deopt = self.fn.append_basic_block("deopt")
            with self.b.goto_block(self._deopt):
                self.b.ret(ir.Constant(I32, 1))
        return self._deopt

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
                self.locals[name] = ArrayVal(t, data, [s0, s1][:t.ndim], [st0, st1][:t.ndim])
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
                self.b.ret(ir.Constant(I32, 0))
            else:
                self.b.unreachable()

    # -- statements ---------------------------------------------------------------
    def block(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            if self.b.block.is_terminated:  # code after return/break/continue
                self.b.position_at_end(self.fn.append_basic_block("dead"))
            self.stmt(stmt)

    def stmt(self, s: ast.stmt) -> None:
        if isinstance(s, (ast.Assign, ast.AnnAssign)):
            target = s.targets[0] if isinstance(s, ast.Assign) else s.target
            assert s.value is not None
            self.store(target, self.expr(s.value))
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
        self.b.cbranch(self.condition(s.test), body, end)
        self.b.position_at_end(body)
        self.loops.append((head, end))
        self.block(s.body)
        self.loops.pop()
        if not self.b.block.is_terminated:
            self.b.branch(head)
        self.b.position_at_end(end)

    def for_range(self, s: ast.For) -> None:
        """range() as a counted loop: trip count first (unsigned, overflow-free), so
        LLVM sees a canonical induction variable it can vectorise."""
        assert isinstance(s.iter, ast.Call) and isinstance(s.target, ast.Name)
        args = [self.ops.to_int(self.scalar(a)) for a in s.iter.args]
        zero, one = ir.Constant(I64, 0), ir.Constant(I64, 1)
        if len(args) == 1:
            start, stop, step = zero, args[0], one
        else:
            start, stop = args[0], args[1]
            step = args[2] if len(args) == 3 else one
        if len(args) == 3:
            self.ops.guard(self.b.icmp_signed("==", step, zero))  # ValueError in CPython
        up = self.b.icmp_signed(">", step, zero)
        lo = self.b.select(up, start, stop)
        hi = self.b.select(up, stop, start)
        span = self.b.sub(hi, lo)  # as unsigned: exact when hi > lo
        mag = self.b.select(up, step, self.b.sub(zero, step))
        trips = self.b.add(self.b.udiv(self.b.sub(span, one), mag), one)
        trips = self.b.select(self.b.icmp_signed(">", hi, lo), trips, zero)
        pre = self.b.block
        head = self.fn.append_basic_block("for.head")
        body = self.fn.append_basic_block("for.body")
        latch = self.fn.append_basic_block("for.latch")
        end = self.fn.append_basic_block("for.end")
        self.b.branch(head)
        self.b.position_at_end(head)
        k = self.b.phi(I64, "k")
        k.add_incoming(zero, pre)
        self.b.cbranch(self.b.icmp_unsigned("<", k, trips), body, end)
        self.b.position_at_end(body)
        value = self.b.add(start, self.b.mul(k, step))
        slot = self.locals[s.target.id]
        assert isinstance(slot, Slot)
        self.store_slot(slot, Val(value, slot.t, FALSE))
        self.loops.append((latch, end))
        self.block(s.body)
        self.loops.pop()
        if not self.b.block.is_terminated:
            self.b.branch(latch)
        self.b.position_at_end(latch)
        k_next = self.b.add(k, one, flags=["nuw"])
        k.add_incoming(k_next, latch)
        self.b.branch(head)
        self.b.position_at_end(end)

    def write_result(self, ptr: ir.Value, index: int, val: Val, t: Scalar) -> None:
        val = self.coerce(val, t)
        slot = self.b.gep(ptr, [ir.Constant(I64, 2 * index)])
        bits = val.v
        if t.kind == "float":
            bits = self.b.bitcast(bits, I64)
        elif t.kind == "bool":
            bits = self.b.zext(bits, I64)
        self.b.store(bits, slot)
        tag_slot = self.b.gep(ptr, [ir.Constant(I64, 2 * index + 1)])
        self.b.store(self.b.zext(val.tag, I64), tag_slot)

    def return_stmt(self, s: ast.Return) -> None:
        rt = self.typed.return_type
        if s.value is not None:
            value = self.expr(s.value)
            if isinstance(rt, Scalar):
                assert isinstance(value, Val)
                self.write_result(self.ret_ptr, 0, value, rt)
            elif isinstance(rt, Tuple):
                assert isinstance(value, list)
                for i, (v, t) in enumerate(zip(value, rt.items)):
                    self.write_result(self.ret_ptr, i, v, t)
        self.b.ret(ir.Constant(I32, 0))

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
            return self.branchy(t, e.test, lambda: self.scalar(e.body),
                                lambda: self.scalar(e.orelse))
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

    def branchy(self, t: JitType, test: ast.expr | ir.Value, then: Callable[[], Val],
                other: Callable[[], Val]) -> Val:
        """A value chosen by control flow (if-expressions, and/or), merged with phis."""
        assert isinstance(t, Scalar)
        cond = self.condition(test) if isinstance(test, ast.expr) else test
        blocks = [self.fn.append_basic_block("sel.a"), self.fn.append_basic_block("sel.b")]
        merge = self.fn.append_basic_block("sel.end")
        self.b.cbranch(cond, blocks[0], blocks[1])
        incoming = []
        for blk, make in zip(blocks, (then, other)):
            self.b.position_at_end(blk)
            val = self.coerce(make(), t)
            incoming.append((val, self.b.block))
            self.b.branch(merge)
        self.b.position_at_end(merge)
        phi = self.b.phi(LLVM_TYPES[t.kind])
        tag = self.b.phi(I1)
        for val, blk in incoming:
            phi.add_incoming(val.v, blk)
            tag.add_incoming(val.tag, blk)
        return Val(phi, t, tag)

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
        n = max(1, result_slots(callee.return_type))
        ret = self._alloca(ir.ArrayType(I64, 2 * n), "callret")
        ret_ptr = self.b.bitcast(ret, ir.PointerType(I64))
        status = self.b.call(fn, args + [ret_ptr])
        self.ops.guard(self.b.icmp_signed("!=", status, ir.Constant(I32, 0)))
        rt = callee.return_type
        items = list(rt.items) if isinstance(rt, Tuple) else [rt]
        vals = []
        for i, it in enumerate(items):
            if not isinstance(it, Scalar):
                return None
            bits = self.b.load(self.b.gep(ret_ptr, [ir.Constant(I64, 2 * i)]))
            tag = self.b.trunc(self.b.load(self.b.gep(ret_ptr, [ir.Constant(I64, 2 * i + 1)])),
                               I1)
            if it.kind == "float":
                bits = self.b.bitcast(bits, F64)
            elif it.kind == "bool":
                bits = self.b.trunc(bits, I1)
            vals.append(Val(bits, it, tag))
        return vals if isinstance(rt, Tuple) else vals[0]

    def element_ptr(self, e: ast.Subscript) -> tuple[ArrayVal, ir.Value]:
        """Address of ``a[i]`` / ``a[i, j]``: negative indices wrap, out of bounds deopts."""
        arr = self.expr(e.value)
        assert isinstance(arr, ArrayVal)
        nodes = e.slice.elts if isinstance(e.slice, ast.Tuple) else [e.slice]
        zero = ir.Constant(I64, 0)
        idx = []
        for node, size in zip(nodes, arr.shape):
            i = self.ops.to_int(self.scalar(node))
            i = self.b.select(self.b.icmp_signed("<", i, zero), self.b.add(i, size), i)
            self.ops.guard(self.b.icmp_unsigned(">=", i, size))
            idx.append(i)
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


def declare_function(module: ir.Module, typed: TypedFunction, symbol: str) -> ir.Function:
    """Create the (still empty) IR function for a specialisation."""
    fn = ir.Function(module, function_type(typed), name=symbol)
    return fn

