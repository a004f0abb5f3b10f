"""Lowering: a typed function's ``ast`` to LLVM IR (llvmlite.ir).

Each specialisation becomes an internal ``fastcc`` body plus its entry points
(``abi``: the calling conventions and how arrays cross them).  Why a body
apart from the entries: recursion (``fib``) pays for every call, and a result
returned in registers with its status costs no stack slot, store or reload,
where the entry convention sends each result through memory (fib: 0.78x ->
1.18x numba).  Why a status instead of exceptions: LLVM optimises plain
branches well, and one exit serves every failed speculation.

Locals live in entry-block allocas that SROA/mem2reg turn into registers, so
they stay unboxed; a non-parameter local also has a "bound" flag so reading
it before assignment deoptimises (CPython raises UnboundLocalError).  Array
elements are loaded and stored as their dtype (``elements``).
"""

from __future__ import annotations

import ast
import weakref
from typing import Callable, Union

from llvmlite import ir

from .abi import (PACKED_TYPE, abi_params, body_result_type, flat_params,
                  function_type, packable, result_scalars, result_slots, unbox_array,
                  unpack_results, write_result)
from .elements import (ArrayVal, convert, element_address, load_element, max_dim,
                       store_element)
from .infer import MATH_CONSTS, TypedFunction
from . import abi, cmath_calls, complexes, lists, local_arrays, simd_calls
from .lists import ListInit, ListVal
from .ops import F64, FALSE, I1, I8, I32, I64, STATUS, STATUS_OK, TRUE, Ops, Val, llvm_type
from .speculation import affine, assigned, convertible
from .types import (Array, Bottom, JitType, JitTypeError, List, NoneType, Scalar, Tuple,
                    binop_result)
from .lower_loops import LoopChecks, LoopLowering, Slot


_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Pow: "**"}
PY_INT = Scalar("int")
_CMPOPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
           ast.NotEq: "!="}


#: bodies some compiled function calls (recursion included): never forced inline.
_CALLED: "weakref.WeakSet[ir.Function]" = weakref.WeakSet()


def body_function(entry: ir.Function, typed: TypedFunction) -> ir.Function:
    """The internal fastcc body behind entry point ``entry`` (declared on first request)."""
    module = entry.module
    name = entry.name + ".body"
    if name in module.globals:
        return module.globals[name]
    fnty = ir.FunctionType(body_result_type(typed.return_type),
                           flat_params(typed.argtypes) + [ir.PointerType(I64)])
    body = ir.Function(module, fnty, name=name)
    body.linkage = "internal"
    body.calling_convention = "fastcc"
    body.attributes.add("nounwind")
    # err is the dispatcher's result buffer: never an array, written only on failure.
    for attr in ("noalias", "captures(none)"):
        body.args[-1].add_attribute(attr)
    return body


Value = Union[Val, list, ArrayVal, ListVal, ListInit, None]
#: returns the IR function for a callee (a Dispatcher) at a signature, in this module.
CalleeDeclarer = Callable[[object, tuple[JitType, ...]], tuple[ir.Function, TypedFunction]]


class FunctionLowering(LoopLowering):
    """Emits one specialisation of one function into ``module``."""

    def __init__(self, typed: TypedFunction, fn: ir.Function, declare: CalleeDeclarer) -> None:
        self.typed = typed
        self.entry = fn
        self.fn = body_function(fn, typed)
        self.declare = declare
        self.b = ir.IRBuilder(self.fn.append_basic_block("entry"))
        self.ops = Ops(self.b, fn.module, self._fail_edge, self.fn.args[-1])
        self._fail_status: ir.PhiInstr | None = None
        self._exit: tuple[ir.Block, list[ir.PhiInstr]] | None = None
        self.locals: dict[str, Slot | list[Slot] | ArrayVal | ListVal] = {}
        self.loops: list[tuple[ir.Block, ir.Block]] = []
        #: per enclosing loop: how its accumulators are checked
        self.loop_checks: list[LoopChecks] = []
        self.ret_type = body_result_type(typed.return_type)

    def _fail_edge(self, status: ir.Value) -> ir.Block:
        """The body's one failure exit, entered from the current block with ``status``."""
        if self._fail_status is None:
            block = self.fn.append_basic_block("fail")
            with self.b.goto_block(block):
                self._fail_status = self.b.phi(STATUS, "status")
                zeros = [ir.Constant(ty, None) for ty in self.ret_type.elements[1:]]
                self._leave([self._fail_status, *zeros])
        self._fail_status.add_incoming(status, self.b.block)
        return self._fail_status.parent

    def _leave(self, fields: list[ir.Value]) -> None:
        """Branch from the current block to the body's one ``ret``, with its fields.

        Why one ``ret`` whose fields are separate phis, not a ``ret`` per return: LLVM
        merges those into one phi of the whole ``{status, results}`` aggregate, and
        once the body is inlined into a caller that reads both the status and a
        result, InstCombine leaves that phi alone (it has two users), so the status
        test stays a run-time branch after every inlined call (spectral_norm's
        ``eval_a``: 8 extra instructions a call).  With the fields apart, the status
        is a phi of constants that jump threading folds into the failing edges."""
        if self._exit is None:
            block = self.fn.append_basic_block("exit")
            with self.b.goto_block(block):
                phis = [self.b.phi(ty) for ty in self.ret_type.elements]
                packed: ir.Value = ir.Constant(self.ret_type, None)
                for k, phi in enumerate(phis):
                    packed = self.b.insert_value(packed, phi, k)
                self.b.ret(packed)
            self._exit = (block, phis)
        block, phis = self._exit
        for phi, value in zip(phis, fields):
            phi.add_incoming(value, self.b.block)
        self.b.branch(block)

    def _alloca(self, ty: ir.Type, name: str) -> ir.Value:
        with self.b.goto_entry_block():
            self.b.position_at_start(self.fn.entry_basic_block)
            return self.b.alloca(ty, name=name)

    def _scalar_slot(self, name: str, t: Scalar, is_param: bool) -> Slot:
        value = self._alloca(llvm_type(t), name)
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
                data = next(params)
                shape = [next(params) for _ in range(t.ndim)]
                strides = [next(params) for _ in range(t.ndim)]
                bound = ir.Constant(I64, max_dim(t.dtype))
                for size in shape:
                    self.ops.assume(self.b.icmp_unsigned("<=", size, bound))
                self.locals[name] = ArrayVal(t, data, shape, strides)
                continue
            assert isinstance(t, Scalar)
            slot = self._scalar_slot(name, t, True)
            raw = next(params)
            if t.kind == "complex":  # two doubles (float32 values for a complex64)
                value = complexes.pack_params(self.ops, raw, next(params), t)
            else:
                value = self.b.trunc(raw, I1) if t.kind == "bool" else (
                    self.b.fptrunc(raw, llvm_type(t)) if t.single else raw)
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
            elif isinstance(t, List):
                self.locals[name] = lists.new_list(self.b, self._alloca, t, name)
            elif isinstance(t, Array) and name in self.typed.local_arrays:
                shape = self.typed.local_arrays[name][1]
                self.locals[name] = local_arrays.storage(self._alloca, self.b, t, shape, name)
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
        """The entry points (``abi``): with a packed entry, the typed one only packs its
        parameters into words and calls it, so the body is inlined into one of them
        only (optimised once); without, the typed entry calls the body itself."""
        b = ir.IRBuilder(self.entry.append_basic_block("entry"))
        if self.entry.linkage == "internal":  # a callee's: only its body is ever called
            b.unreachable()
            return
        *params, ret_ptr = self.entry.args
        if not packable(self.typed.argtypes):
            args: list[ir.Value] = []
            it = iter(params)
            for t in self.typed.argtypes:
                if isinstance(t, Array) and abi.ARRAY_LAYOUT is not None:  # the object
                    args.extend(unbox_array(b, next(it), t.ndim))
                else:
                    args.extend(next(it) for _ in abi_params(t))
            self._call_body(b, args, ret_ptr)
            return
        packed = ir.Function(self.entry.module, PACKED_TYPE, name=packed_symbol(self.entry.name))
        packed.attributes.add("noinline")
        for arg in packed.args:
            arg.add_attribute("noalias")
        self._lower_packed(packed)
        words = b.alloca(ir.ArrayType(I64, max(1, len(params))))
        for k, param in enumerate(params):
            word = b.ptrtoint(param, I64) if isinstance(param.type, ir.PointerType) else (
                b.bitcast(param, I64) if param.type == F64 else param)
            b.store(word, b.gep(words, [ir.Constant(I64, 0), ir.Constant(I64, k)]))
        first = b.gep(words, [ir.Constant(I64, 0), ir.Constant(I64, 0)])
        b.ret(b.call(packed, [first, ret_ptr]))

    def _lower_packed(self, fn: ir.Function) -> None:
        """``i32 f.packed(i64* words, i64* ret)``: one word per argument, unpacked."""
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        words, ret_ptr = fn.args
        args: list[ir.Value] = []
        for k, t in enumerate(self.typed.argtypes):
            word = b.load(b.gep(words, [ir.Constant(I64, k)]))
            if isinstance(t, Array):
                args.extend(unbox_array(b, b.inttoptr(word, ir.PointerType(I8)), t.ndim))
            elif isinstance(t, Scalar) and t.kind == "float":
                args.append(b.bitcast(word, F64))
            else:
                args.append(word)
        self._call_body(b, args, ret_ptr)

    def _call_body(self, b: ir.IRBuilder, args: list[ir.Value], ret_ptr: ir.Value) -> None:
        """Call the body, then spill its results to the ``ret`` slots; return the status."""
        if self.fn not in _CALLED:
            # Only the entry calls this body (so far; a later compiled call undoes this):
            # inlined before optimisation, it is optimised once, not once alone and again
            # inside the entry (that doubled LLVM's time on loop-heavy functions).
            self.fn.attributes.add("alwaysinline")
        packed = b.call(self.fn, args + [ret_ptr], cconv="fastcc")  # err: the ret slots
        done = b.function.append_basic_block("done")
        fail = b.function.append_basic_block("fail")
        status = b.extract_value(packed, 0)
        b.cbranch(b.icmp_unsigned("!=", status, ir.Constant(STATUS, STATUS_OK)), fail, done)
        b.position_at_end(fail)
        b.ret(b.zext(status, I32))
        b.position_at_end(done)
        slot = 0
        for val in unpack_results(b, packed, self.typed.return_type):
            write_result(b, ret_ptr, slot, val)
            slot += result_slots(val.t)
        b.ret(ir.Constant(I32, 0))

    # -- statements ---------------------------------------------------------------
    def block(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            if self.b.block.is_terminated:  # code after return/break/continue
                self.b.position_at_end(self.fn.append_basic_block("dead"))
            self.stmt(stmt)

    def stmt(self, s: ast.stmt) -> None:
        if isinstance(s, ast.Assign) and len(s.targets) == 1 \
                and isinstance(s.targets[0], ast.Name) \
                and s.targets[0].id in self.typed.local_arrays:
            arr = self.locals[s.targets[0].id]
            assert isinstance(arr, ArrayVal)
            local_arrays.fill(self.ops, arr, *self.typed.local_arrays[s.targets[0].id])
        elif isinstance(s, (ast.Assign, ast.AnnAssign)):
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
            current = self.load_at(arr, ptr)
        else:
            cur = self.expr(s.target)
            assert isinstance(cur, Val)
            current = cur
        rhs = self.scalar(s.value)
        accumulator = self.accumulator(s.target)
        saved = self.ops.pending
        if accumulator is not None:  # its checks wait for the loop's exit, or were done
            self.ops.pending = FALSE
        result = self.ops.binop(op, current, rhs, binop_result(op, current.t, rhs.t))
        if accumulator is not None and accumulator[0] == "element":
            collected, self.ops.pending = self.ops.pending, saved
            assert accumulator[1] is not None and collected is not None
            self.ops.guard(self.b.and_(self.b.not_(accumulator[1]), collected),
                           deferrable=True)
        if isinstance(s.target, ast.Subscript):
            self.store_at(arr, ptr, result)
        else:
            self.store(s.target, result)
        if accumulator is not None and accumulator[0] != "element":
            flag = accumulator[1]
            if flag is not None:
                self.b.store(self.b.or_(self.b.load(flag), self.ops.pending), flag)
            self.ops.pending = saved

    def accumulator(self, target: ast.expr) -> tuple[str, ir.Value | None] | None:
        """For an accumulator of the innermost loop it is one of: ("sticky", its loop's
        overflow flag), ("proven", None) when that loop's pre-check covers it, or
        ("counter", None) when the loop's exit compares it with its entry value; for
        ``a[...]`` of an array whose updates the loop pre-checked, ("element", the i1
        that says the pre-check held)."""
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            for checks in reversed(self.loop_checks):
                if target.value.id in checks.elements:
                    return "element", checks.elements[target.value.id]
        if isinstance(target, ast.Name):
            for checks in reversed(self.loop_checks):
                if target.id in checks.proven:
                    return "proven", None
                if target.id in checks.counters:
                    return "counter", None
                if target.id in checks.sticky:
                    return "sticky", checks.flag
        return None

    def coerce(self, val: Val, t: Scalar) -> Val:
        """Fit ``val`` to a slot of type ``t`` (same kind; only the tag may change form)."""
        if val.t.single != t.single and val.t.kind == t.kind == "float":
            if not val.t.single:
                raise JitTypeError(f"cannot store {val.t} as {t}")
            return Val(self.b.fpext(val.v, F64), t, val.tag)  # into a tagged float32
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
            elif isinstance(slot, ListVal):
                assert isinstance(value, ListInit)
                lists.fill(self.b, slot, value, self.coerce)
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
            self.store_at(arr, ptr, value)

    def if_stmt(self, s: ast.If) -> None:
        if convertible(s) and all(isinstance(self.locals.get(name), Slot)
                                  for name in assigned([*s.body, *s.orelse])):
            self.if_convert(s)
            return
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

    def if_convert(self, s: ast.If) -> None:
        """Both arms computed from the same state, each into the slots, then the slots
        selected by the test; both arms' deferrable checks are tested after (see
        ``speculation``)."""
        cond = self.condition(s.test)
        slots = [self.locals[name] for name in assigned([*s.body, *s.orelse])]
        before = [self.slot_state(slot) for slot in slots]  # type: ignore[arg-type]
        saved = self.ops.pending
        arms = []
        for arm in (s.body, s.orelse):
            for slot, state in zip(slots, before):
                self.set_slot_state(slot, state)  # type: ignore[arg-type]
            self.ops.pending = FALSE
            self.block(arm)
            arms.append(([self.slot_state(slot) for slot in slots],  # type: ignore[arg-type]
                         self.ops.pending))
        self.ops.pending = saved
        (then_states, then_bad), (else_states, else_bad) = arms
        for slot, a, b in zip(slots, then_states, else_states):
            self.set_slot_state(slot, [None if x is None else self.b.select(cond, x, y)  # type: ignore
                                       for x, y in zip(a, b)])
        # Both arms' checks, not the taken one's: a check selected by the test becomes a
        # branch on the test again in LLVM's back end (the mispredictions this avoids);
        # an untaken arm that overflows costs a deopt, never a wrong result.
        self.ops.guard(self.b.or_(then_bad, else_bad), deferrable=True)

    def slot_state(self, slot: Slot) -> list[ir.Value | None]:
        return [None if ptr is None else self.b.load(ptr)
                for ptr in (slot.value, slot.tag, slot.bound)]

    def set_slot_state(self, slot: Slot, state: list[ir.Value | None]) -> None:
        for ptr, value in zip((slot.value, slot.tag, slot.bound), state):
            if ptr is not None and value is not None:
                self.b.store(value, ptr)

    def return_values(self, values: list[Val]) -> None:
        """Return ``{i8 0, values...}`` from the body, each value fitted to the return type."""
        fields: list[ir.Value] = [ir.Constant(STATUS, STATUS_OK)]
        for val, t in zip(values, result_scalars(self.typed.return_type)):
            fields.append(self.coerce(val, t).v)
            if t.np is None:
                fields.append(val.tag)
        self._leave(fields)

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
            if t.kind == "complex":
                return Val(complexes.constant(e.value), t, FALSE)
            return Val(ir.Constant(llvm_type(t), e.value), t, FALSE)
        if isinstance(e, ast.Name):
            return self.load_name(e.id)
        if isinstance(e, ast.List):
            return ListInit([self.scalar(x) for x in e.elts])
        if isinstance(t, List):  # [x, ...] * n: each item evaluated once, then repeated
            display, count = lists.repeated_display(e)  # type: ignore[arg-type, misc]
            return ListInit([self.scalar(x) for x in display.elts] * count)
        if isinstance(e, ast.BinOp):
            form = affine(e) if t == PY_INT else None
            if form is not None and self.typed.exprs.get(form[1]) == PY_INT:
                return Val(self.ops.affine(self.scalar(form[1]).v, form[0], form[2]), t, FALSE)
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
            base_t = self.typed.exprs.get(e.value)
            if isinstance(base_t, Scalar) and base_t.kind == "complex":  # z.real, z.imag
                return complexes.part(self.ops, self.scalar(e.value), e.attr)
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
            self.ops.guard(self.b.not_(self.b.load(slot.bound)), deferrable=True)
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
            phi = self.b.phi(llvm_type(item))
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
        if isinstance(func, ast.Attribute) and func.attr == "conjugate" and not e.args \
                and getattr(self.typed.exprs.get(func.value), "kind", None) == "complex":
            return complexes.conjugate(self.ops, self.scalar(func.value))
        if e in self.typed.cmath_calls:
            return cmath_calls.lower(self.ops, func.attr, [self.scalar(a) for a in e.args])
        if isinstance(func, ast.Attribute):
            args = [self.scalar(a) for a in e.args]
            assert isinstance(t, Scalar)
            if t.np is True:  # np.<dtype>(x)
                return convert(self.ops, args[0], t.dtype)
            return Val(self.ops.math_call(func.attr, args), t, FALSE)
        assert isinstance(func, ast.Name)
        if simd_calls.result_type(func.id, [self.typed.exprs.get(a) for a in e.args]) is not None:
            return simd_calls.lower(self, func.id, self.expr(e.args[0]), t)
        if func.id == "len":
            arr = self.expr(e.args[0])
            if isinstance(arr, ListVal):
                return Val(ir.Constant(I64, arr.t.size), Scalar("int"), FALSE)
            assert isinstance(arr, ArrayVal)
            return Val(arr.shape[0], Scalar("int"), FALSE)
        args = [self.scalar(a) for a in e.args]
        if func.id == "complex":
            return complexes.construct(self.ops, args)
        if func.id == "abs":
            return self.ops.abs_(args[0])
        if func.id in ("min", "max"):
            return self.ops.min_max(func.id, args)
        if func.id in ("divmod", "pow"):
            assert isinstance(t, (Tuple, Scalar))
            ops = ["//", "%"] if func.id == "divmod" else ["**"]
            types = list(t.items) if isinstance(t, Tuple) else [t]
            vals = [self.ops.binop(op, args[0], args[1], rt) for op, rt in zip(ops, types)]
            return vals if func.id == "divmod" else vals[0]
        if func.id == "round":  # half to even, as CPython; NaN and inf deoptimise (raise)
            if args[0].t.kind != "float":
                return Val(self.ops.to_int(args[0]), Scalar("int"), FALSE)
            even = self.ops.float_call("llvm.roundeven.f64", self.ops.to_float(args[0]))
            return Val(self.ops.float_to_int(even), Scalar("int"), FALSE)
        a = args[0]
        if func.id == "float":
            return Val(self.ops.to_float(a), Scalar("float"), FALSE)
        if func.id == "bool":
            return Val(self.ops.truth(a), Scalar("bool"), FALSE)
        if a.t.kind == "float":
            return Val(self.ops.float_to_int(self.ops.to_float(a)), Scalar("int"), FALSE)
        value = self.ops.to_int(a)
        return Val(value, Scalar("int"), FALSE)

    def call_compiled(self, e: ast.Call, t: JitType) -> Value:
        target, sig = self.typed.callees[e]
        fn, callee = self.declare(target, sig)
        args: list[ir.Value] = []
        for node, pt in zip(e.args, sig):
            v = self.expr(node)
            if isinstance(v, ArrayVal):
                args.extend([v.data, *v.shape, *v.strides])
            else:
                assert isinstance(v, Val) and isinstance(pt, Scalar)
                v = self.coerce(v, pt)
                if pt.kind == "complex":
                    args.extend(complexes.to_parts(self.ops, v, False))
                    continue
                args.append(self.b.zext(v.v, I64) if pt.kind == "bool" else (
                    self.b.fpext(v.v, F64) if pt.single else v.v))
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

    def element_ptr(self, e: ast.Subscript) -> tuple[ArrayVal | ListVal, ir.Value]:
        """Address of ``a[i]`` / ``a[i, j]`` (``elements.element_address``), or a local
        list's item number; all indices are evaluated before any is checked, as CPython."""
        arr = self.expr(e.value)
        if isinstance(arr, ListVal):
            index = self.ops.to_int(self.scalar(e.slice))
            return arr, lists.checked_index(self.ops, arr, index)
        assert isinstance(arr, ArrayVal)
        nodes = e.slice.elts if isinstance(e.slice, ast.Tuple) else [e.slice]
        raw = [self.ops.to_int(self.scalar(node)) for node in nodes]
        return arr, element_address(self.ops, arr, raw, self.typed.exact_index_errors)

    def subscript(self, e: ast.Subscript) -> Value:
        base_t = self.typed.exprs.get(e.value)
        if isinstance(base_t, Tuple):
            items = self.expr(e.value)
            assert isinstance(items, list) and isinstance(e.slice, ast.Constant)
            return items[e.slice.value]
        arr, ptr = self.element_ptr(e)
        return self.load_at(arr, ptr)

    def load_at(self, container: ArrayVal | ListVal, at: ir.Value) -> Val:
        """An element (``at`` its address) or a list item (``at`` its number)."""
        if isinstance(container, ListVal):
            return lists.load_item(self.b, container, at)
        return load_element(self.ops, container.t, at)

    def store_at(self, container: ArrayVal | ListVal, at: ir.Value, val: Val) -> None:
        if isinstance(container, ListVal):
            lists.store_item(self.b, container, at, self.coerce(val, container.t.item))
        else:
            store_element(self.ops, container.t, at, val)


def declare_function(module: ir.Module, typed: TypedFunction, symbol: str) -> ir.Function:
    """Create the (still empty) entry point for a specialisation; its body comes with it."""
    fn = ir.Function(module, function_type(typed.argtypes), name=symbol)
    body_function(fn, typed)
    return fn


def packed_symbol(symbol: str) -> str:
    """The name of the packed entry beside entry point ``symbol`` (see ``abi``)."""
    return symbol + ".packed"

