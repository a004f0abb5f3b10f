"""Scalar operations with CPython's exact semantics, as LLVM IR.

Why every unusual case deoptimises instead of being emulated: the fast path
(no overflow, non-zero divisor, finite math results) is what compiled code
is for, and re-running the call in CPython reproduces every rare outcome
exactly (big ints, ZeroDivisionError and its message, ``math domain
error``, NumPy's wrap-around and warnings).  So each operation here is
"fast path, or branch to the function's failure exit with status DEOPT".
The one exception is an array index out of bounds: CPython raises
IndexError right there, with the arrays exactly as the compiled code left
them, so that exit (status INDEX_ERROR, index/axis/size in the error slots)
is raised as is -- and a function whose only failures are those needs no
array snapshot for a re-run.
The pieces that must match CPython on the fast path are written out:
floor division and modulo (int and float, including signed zeros), exact
int/float comparison, ``min``/``max`` argument order, truthiness of NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from llvmlite import ir

from .types import (DTYPES, INT64_MAX, INT64_MIN, DType, JitTypeError, Scalar, alternatives,
                    binop_result, compare_domain)

I1 = ir.IntType(1)
I8 = ir.IntType(8)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
F64 = ir.DoubleType()
F32 = ir.FloatType()
TRUE = ir.Constant(I1, 1)
FALSE = ir.Constant(I1, 0)
TWO53 = 1 << 53

LLVM_TYPES = {"int": I64, "float": F64, "bool": I1}
#: the LLVM type an array element of each dtype is loaded and stored as.
ELEMENT_TYPES = {"bool": I8, "int8": I8, "int16": ir.IntType(16), "int32": I32, "int64": I64,
                 "uint8": I8, "uint16": ir.IntType(16), "uint32": I32, "uint64": I64,
                 "float32": F32, "float64": F64,
                 "complex64": ir.LiteralStructType([F32, F32]),
                 "complex128": ir.LiteralStructType([F64, F64])}


def llvm_type(t: Scalar) -> ir.Type:
    """Where a scalar lives: i1, i64 (every integer dtype), float (float32), double, or
    a pair of them (complex)."""
    if t.kind == "complex":
        return ELEMENT_TYPES["complex64" if t.np is True and t.dtype == "complex64"
                             else "complex128"]
    return F32 if t.single else LLVM_TYPES[t.kind]

#: the status a compiled function returns: its result is valid / re-run the call in
#: CPython / raise IndexError from the two error slots (index; size | axis << 62).
STATUS_OK, STATUS_DEOPT, STATUS_INDEX_ERROR = 0, 1, 2
STATUS = ir.IntType(8)
AXIS_SHIFT = 62


@dataclass
class Val:
    """An unboxed scalar: its IR value, its JIT type and its NumPy tag (an i1)."""

    v: ir.Value
    t: Scalar
    tag: ir.Value


class Ops:
    """Emits operations into ``builder``; failed fast-path checks branch to the exit."""

    def __init__(self, builder: ir.IRBuilder, module: ir.Module,
                 fail: Callable[[ir.Value], ir.Block], err: ir.Value) -> None:
        self.b = builder
        self.module = module
        self._fail = fail  # the exit block, given the status this edge brings
        self.err = err  # i64[2] the caller reads when the status is INDEX_ERROR
        self.pending: ir.Value | None = None  # deferred checks being collected (``guard``)
        self._index_error: tuple[ir.Block, tuple[ir.PhiInstr, ir.PhiInstr]] | None = None

    # -- helpers ------------------------------------------------------------------
    def intrinsic(self, name: str, ret: ir.Type, args: list[ir.Type]) -> ir.Function:
        """Declare (once) an LLVM intrinsic or libm function."""
        if name in self.module.globals:
            return self.module.globals[name]
        return ir.Function(self.module, ir.FunctionType(ret, args), name=name)

    def assume(self, fact: ir.Value) -> None:
        """Tell LLVM ``fact`` holds (only for invariants the runtime guarantees)."""
        self.b.call(self.intrinsic("llvm.assume", ir.VoidType(), [I1]), [fact])

    def guard(self, bad: ir.Value, status: ir.Value | None = None,
              deferrable: bool = False) -> None:
        """Continue only if ``bad`` is false; else leave with ``status`` (default DEOPT),
        the branch marked unlikely so LLVM lays the failure paths out of line.

        A ``deferrable`` check (overflow and range checks: continuing past them with
        a wrong value is harmless until it is used) joins ``pending`` instead, when the
        lowering collects checks there: one deopt test later then covers them (an
        accumulator's at its loop's exit, an if-converted statement's after it)."""
        if deferrable and self.pending is not None:
            self.pending = bad if self.pending is FALSE else self.b.or_(self.pending, bad)
            return
        ok = self.b.append_basic_block("ok")
        exit_block = self._fail(ir.Constant(STATUS, STATUS_DEOPT) if status is None else status)
        br = self.b.cbranch(bad, exit_block, ok)
        br.set_weights([1, 1 << 20])
        self.b.position_at_end(ok)

    def check_index(self, index: ir.Value, size: ir.Value, axis: int, exact: bool) -> ir.Value:
        """``index`` wrapped like Python's negative indices; out of bounds raises NumPy's
        IndexError in place when ``exact``, else deoptimises (CPython then raises it)."""
        zero = ir.Constant(I64, 0)
        wrapped = self.b.select(self.b.icmp_signed("<", index, zero),
                                self.b.add(index, size), index)
        if not exact:
            self.guard(self.b.icmp_unsigned(">=", wrapped, size))
            return wrapped
        ok = self.b.append_basic_block("ok")
        packed = self.b.or_(size, ir.Constant(I64, axis << AXIS_SHIFT))
        br = self.b.cbranch(self.b.icmp_unsigned(">=", wrapped, size),
                            self._index_error_edge(index, packed), ok)
        br.set_weights([1, 1 << 20])
        self.b.position_at_end(ok)
        return wrapped

    def _index_error_edge(self, index: ir.Value, packed: ir.Value) -> ir.Block:
        """The function's one IndexError exit (phis gather the details): why one block and
        not one per subscript: dozens of cold blocks made LLVM's passes ~30% slower."""
        if self._index_error is None:
            block = self.b.function.append_basic_block("index.error")
            with self.b.goto_block(block):
                phis = (self.b.phi(I64, "bad.index"), self.b.phi(I64, "bad.size"))
                for i, phi in enumerate(phis):
                    self.b.store(phi, self.b.gep(self.err, [ir.Constant(I64, i)]))
                self.b.branch(self._fail(ir.Constant(STATUS, STATUS_INDEX_ERROR)))
            self._index_error = (block, phis)
        block, (index_phi, packed_phi) = self._index_error
        index_phi.add_incoming(index, self.b.block)
        packed_phi.add_incoming(packed, self.b.block)
        return block

    def tag_or(self, *vals: Val) -> ir.Value:
        tag: ir.Value = FALSE
        for val in vals:
            if val.t.np is True:
                return TRUE
            if val.t.np is None:
                tag = val.tag if tag is FALSE else self.b.or_(tag, val.tag)
        return tag

    def to_float(self, val: Val) -> ir.Value:
        """The value as a double (float32 widens exactly)."""
        if val.t.kind == "complex":  # float(z) raises TypeError in CPython
            raise JitTypeError("a complex number where a real one is needed")
        if val.t.kind == "float":
            return self.b.fpext(val.v, F64) if val.t.single else val.v
        if val.t.kind == "bool":
            return self.b.uitofp(val.v, F64)
        return self.b.sitofp(val.v, F64)

    def to_int(self, val: Val) -> ir.Value:
        if val.t.kind == "complex":  # int(z), z as an index...: TypeError in CPython
            raise JitTypeError("a complex number where an integer is needed")
        return self.b.zext(val.v, I64) if val.t.kind == "bool" else val.v

    def truth(self, val: Val) -> ir.Value:
        """CPython truthiness (NaN is true)."""
        if val.t.kind == "bool":
            return val.v
        if val.t.kind == "complex":
            return complexes.truth(self, val)
        if val.t.kind == "float":
            return self.b.fcmp_unordered("!=", val.v, ir.Constant(val.v.type, 0.0))
        return self.b.icmp_signed("!=", val.v, ir.Constant(I64, 0))

    def float_call(self, name: str, *args: ir.Value) -> ir.Value:
        """A libm function or intrinsic on doubles, or on floats for ``.f32`` intrinsics."""
        ty = F32 if name.endswith(".f32") else F64
        fn = self.intrinsic(name, ty, [ty] * len(args))
        return self.b.call(fn, list(args))

    def is_nan(self, x: ir.Value) -> ir.Value:
        return self.b.fcmp_unordered("uno", x, x)

    def is_finite(self, x: ir.Value) -> ir.Value:
        suffix = "f32" if x.type == F32 else "f64"
        ax = self.float_call(f"llvm.fabs.{suffix}", x)
        return self.b.fcmp_ordered("<", ax, ir.Constant(x.type, float("inf")))

    def int_fits_double(self, x: ir.Value) -> ir.Value:
        """|x| <= 2**53: converting to double is exact."""
        return self.int_fits_mantissa(x, 53)

    def int_fits_mantissa(self, x: ir.Value, bits: int) -> ir.Value:
        """|x| <= 2**bits: converting to a float with that significand is exact."""
        biased = self.b.add(x, ir.Constant(I64, 1 << bits))
        return self.b.icmp_unsigned("<=", biased, ir.Constant(I64, 2 << bits))

    def in_range(self, x: ir.Value, info: DType) -> ir.Value:
        """``info.lo <= x <= info.hi`` for an i64 ``x``."""
        return self.in_bounds(x, info.lo, info.hi)

    def in_bounds(self, x: ir.Value, lo: int, hi: int) -> ir.Value:
        """``lo <= x <= hi`` for an i64 ``x``: one unsigned compare."""
        if lo == INT64_MIN and hi == INT64_MAX:
            return TRUE
        biased = self.b.sub(x, ir.Constant(I64, lo))
        return self.b.icmp_unsigned("<=", biased, ir.Constant(I64, hi - lo))

    def fit_int(self, x: ir.Value, t: Scalar, tag: ir.Value) -> ir.Value:
        """An int result of NumPy type ``t`` (when ``tag``): outside the dtype, NumPy
        wraps and warns, so the call re-runs in CPython to do exactly that."""
        info = t.info
        if t.np is not False and info is not None and info.kind == "int":
            bad = self.b.not_(self.in_range(x, info))
            self.guard(bad if t.np else self.b.and_(tag, bad), deferrable=True)
        return x

    def fit_float(self, x: ir.Value, t: Scalar, tag: ir.Value) -> ir.Value:
        """A double result that is a float32 when ``tag`` (a tagged float32): rounded so.
        Exact for + - * /: a double holds their float32 operands' result to more than
        twice float32's precision, so rounding it once more is the float32 result."""
        if t.np is None and t.dtype == "float32":
            rounded = self.b.fpext(self.b.fptrunc(x, F32), F64)
            return self.b.select(tag, rounded, x)
        return x

    def operand(self, val: Val, target: Scalar, tag: ir.Value = TRUE) -> ir.Value:
        """``val`` as an operand of an operation computed in ``target``'s type (NumPy's
        when ``tag``, the result's tag), the way NumPy converts it (NEP 50: a Python
        int must fit the NumPy integer type, and a Python int or float becomes a
        float32 when the other side is one)."""
        if target.kind == "int":
            x = self.to_int(val)
            if val.t.np is not True and val.t.kind == "int" and target.np is not False:
                numpy_now = tag if target.np is None else TRUE
                if val.t.np is None:  # a tagged operand is a Python int when untagged
                    numpy_now = self.b.and_(numpy_now, self.b.not_(val.tag))
                bad = self.b.not_(self.in_range(x, DTYPES[target.dtype]))
                self.guard(self.b.and_(numpy_now, bad), deferrable=True)
            return x
        if not target.single:
            x = self.to_float(val)
            if target.np is None and target.dtype == "float32" and val.t.np is not True:
                return self.float32_when(tag, val, x)
            return x
        if val.t.single:
            return val.v
        if val.t.kind == "float":  # a Python float made float32: overflow warns in NumPy
            narrow = self.b.fptrunc(val.v, F32)
            self.guard(self.b.and_(self.is_finite(val.v), self.b.not_(self.is_finite(narrow))))
            return narrow
        if val.t.kind == "int" and val.t.np is False:  # exact up to 2**24 only
            self.guard(self.b.not_(self.int_fits_mantissa(val.v, 24)))
        if val.t.kind == "bool":
            return self.b.uitofp(val.v, F32)
        return self.b.sitofp(val.v, F32)

    def float32_when(self, tag: ir.Value, val: Val, x: ir.Value) -> ir.Value:
        """Operand ``x`` (``val`` as a double) of an operation whose result is a float32
        when ``tag``: NumPy then rounds a Python operand to float32 first (NEP 50), and
        rounding the double result alone would round twice (np.float32(1) + -1/3 is
        0.6666666, not 0.6666667).  Exact for a value that already is a float32."""
        narrow = self.b.fptrunc(x, F32)
        if val.t.kind == "float":  # overflow to inf warns in NumPy
            self.guard(self.b.and_(tag, self.b.and_(self.is_finite(x),
                                                    self.b.not_(self.is_finite(narrow)))))
        elif val.t.kind == "int":  # exact up to 2**24 only
            self.guard(self.b.and_(tag, self.b.not_(self.int_fits_mantissa(val.v, 24))))
        return self.b.select(tag, self.b.fpext(narrow, F64), x)

    # -- arithmetic ---------------------------------------------------------------
    def binop(self, op: str, a: Val, b: Val, result: Scalar) -> Val:
        if result.kind == "complex":
            return complexes.binop(self, op, a, b, result)
        tag = self.tag_or(a, b)
        if result.kind == "float":
            if op == "/" and a.t.kind != "float" and b.t.kind != "float":
                if a.t.np is True or b.t.np is True:  # NumPy: both to double, divide
                    self.guard(self.b.icmp_signed("==", self.to_int(b), ir.Constant(I64, 0)))
                    return Val(self.b.fdiv(self.to_float(a), self.to_float(b)), result, tag)
                return Val(self.int_truediv(self.to_int(a), self.to_int(b)), result, tag)
            if result.np is None and result.dtype == "float32" and op not in "+-*/":
                raise JitTypeError(f"{op} of a value that may be a float or an np.float32")
            x, y = self.operand(a, result, tag), self.operand(b, result, tag)
            return Val(self.fit_float(self.float_binop(op, x, y), result, tag), result, tag)
        x, y = self.operand(a, result, tag), self.operand(b, result, tag)
        return Val(self.fit_int(self.int_binop(op, x, y), result, tag), result, tag)

    def checked(self, name: str, x: ir.Value, y: ir.Value) -> ir.Value:
        """``x <op> y`` on i64 (sadd/ssub/smul), overflow deoptimising (or deferred)."""
        if name == "smul" and isinstance(x, ir.Constant):
            x, y = y, x
        if name == "smul" and isinstance(y, ir.Constant):
            return self.mul_by_constant(x, y)
        fn = self.intrinsic(f"llvm.{name}.with.overflow.i64",
                            ir.LiteralStructType([I64, I1]), [I64, I64])
        pair = self.b.call(fn, [x, y])
        self.guard(self.b.extract_value(pair, 1), deferrable=True)
        return self.no_overflow(name[1:], x, y) if self.pending is None \
            else self.b.extract_value(pair, 0)

    def no_overflow(self, op: str, x: ir.Value, y: ir.Value) -> ir.Value:
        """``x op y`` (add/sub/mul) where a guard has just branched away on its overflow,
        flagged ``nsw``.  Why the same operation again: LLVM cannot tell that the value
        of an ``llvm.*.with.overflow`` call on its no-overflow edge did not wrap, and with
        ``nsw`` it knows e.g. that ``i * i`` is not negative (the index after it needs
        no wrap-around test) or that ``x * (x + 1) // 2 + 1`` is not 0 (no zero-division
        check); the back end computes it once.  Never for a deferred check: there the
        value may have wrapped, and ``nsw`` would make it poison."""
        return getattr(self.b, op)(x, y, flags=["nsw"])

    def mul_by_constant(self, x: ir.Value, c: ir.Constant) -> ir.Value:
        """``x * c``: overflows exactly when ``x`` is outside [MIN / c, MAX / c], one
        compare where the intrinsic costs a multiply's flags and LLVM keeps both."""
        k = int(c.constant)
        if k in (0, 1):
            return self.b.mul(x, c)
        low, high = (INT64_MIN, INT64_MAX) if k > 0 else (INT64_MAX, INT64_MIN)
        lo, hi = max(-(-low // k), INT64_MIN), min(high // k, INT64_MAX)  # ceil, floor
        self.guard(self.b.not_(self.in_bounds(x, lo, hi)), deferrable=True)
        return self.no_overflow("mul", x, c) if self.pending is None else self.b.mul(x, c)

    def affine(self, x: ir.Value, c: int, d: int) -> ir.Value:
        """``c * x + d`` on a Python int ``x``: deoptimises exactly when the result does not
        fit in an int64 (``speculation.affine``), one range test of ``x``."""
        if c > 0:
            lo, hi = -((d - INT64_MIN) // c), (INT64_MAX - d) // c  # ceil, floor
        else:
            lo, hi = -((INT64_MAX - d) // -c), (d - INT64_MIN) // -c
        self.guard(self.b.not_(self.in_bounds(x, max(lo, INT64_MIN), min(hi, INT64_MAX))),
                   deferrable=True)
        return self.b.add(self.b.mul(x, ir.Constant(I64, c)), ir.Constant(I64, d))

    def int_binop(self, op: str, x: ir.Value, y: ir.Value) -> ir.Value:
        if op == "+":
            return self.checked("sadd", x, y)
        if op == "-":
            return self.checked("ssub", x, y)
        if op == "*":
            return self.checked("smul", x, y)
        if op in ("//", "%"):
            return self.int_floordiv_mod(op, x, y)
        if op == "**":
            return self.int_pow(x, y)
        raise AssertionError(op)

    def int_floordiv_mod(self, op: str, x: ir.Value, y: ir.Value) -> ir.Value:
        zero = ir.Constant(I64, 0)
        self.guard(self.b.icmp_signed("==", y, zero))
        overflow = self.b.and_(self.b.icmp_signed("==", x, ir.Constant(I64, -(1 << 63))),
                               self.b.icmp_signed("==", y, ir.Constant(I64, -1)))
        self.guard(overflow)
        q = self.b.sdiv(x, y)
        r = self.b.srem(x, y)
        # Python rounds toward -inf: adjust when the remainder and divisor differ in sign.
        adjust = self.b.and_(self.b.icmp_signed("!=", r, zero),
                             self.b.icmp_signed("<", self.b.xor(r, y), zero))
        if op == "//":
            return self.b.select(adjust, self.b.sub(q, ir.Constant(I64, 1)), q)
        return self.b.select(adjust, self.b.add(r, y), r)

    def int_pow(self, x: ir.Value, y: ir.Value) -> ir.Value:
        """Square-and-multiply with overflow guards; a negative exponent deoptimises."""
        self.guard(self.b.icmp_signed("<", y, ir.Constant(I64, 0)))
        pre = self.b.block
        head = self.b.append_basic_block("pow.head")
        body = self.b.append_basic_block("pow.body")
        done = self.b.append_basic_block("pow.done")
        self.b.branch(head)
        self.b.position_at_end(head)
        acc = self.b.phi(I64)
        base = self.b.phi(I64)
        exp = self.b.phi(I64)
        acc.add_incoming(ir.Constant(I64, 1), pre)
        base.add_incoming(x, pre)
        exp.add_incoming(y, pre)
        self.b.cbranch(self.b.icmp_signed("==", exp, ir.Constant(I64, 0)), done, body)
        self.b.position_at_end(body)
        odd = self.b.trunc(exp, I1)
        mul_blk = self.b.append_basic_block("pow.mul")
        after_mul = self.b.append_basic_block("pow.next")
        cur = self.b.block
        self.b.cbranch(odd, mul_blk, after_mul)
        self.b.position_at_end(mul_blk)
        product = self.checked("smul", acc, base)
        mul_end = self.b.block
        self.b.branch(after_mul)
        self.b.position_at_end(after_mul)
        new_acc = self.b.phi(I64)
        new_acc.add_incoming(acc, cur)
        new_acc.add_incoming(product, mul_end)
        new_exp = self.b.ashr(exp, ir.Constant(I64, 1))
        sq_blk = self.b.append_basic_block("pow.square")
        latch = self.b.append_basic_block("pow.latch")
        cur2 = self.b.block
        self.b.cbranch(self.b.icmp_signed("==", new_exp, ir.Constant(I64, 0)), latch, sq_blk)
        self.b.position_at_end(sq_blk)
        squared = self.checked("smul", base, base)  # only squared when still needed
        sq_end = self.b.block
        self.b.branch(latch)
        self.b.position_at_end(latch)
        new_base = self.b.phi(I64)
        new_base.add_incoming(base, cur2)
        new_base.add_incoming(squared, sq_end)
        acc.add_incoming(new_acc, latch)
        base.add_incoming(new_base, latch)
        exp.add_incoming(new_exp, latch)
        self.b.branch(head)
        self.b.position_at_end(done)
        return acc

    def int_truediv(self, x: ir.Value, y: ir.Value) -> ir.Value:
        """int / int: exact operands convert exactly, so one fdiv is correctly rounded."""
        self.guard(self.b.icmp_signed("==", y, ir.Constant(I64, 0)))
        exact = self.b.and_(self.int_fits_double(x), self.int_fits_double(y))
        self.guard(self.b.not_(exact))
        return self.b.fdiv(self.b.sitofp(x, F64), self.b.sitofp(y, F64))

    def float_binop(self, op: str, x: ir.Value, y: ir.Value) -> ir.Value:
        """+ - * / // % ** on two doubles, or two floats (float32: NumPy's C float math)."""
        zero = ir.Constant(x.type, 0.0)
        if op == "+":
            return self.b.fadd(x, y)
        if op == "-":
            return self.b.fsub(x, y)
        if op == "*":
            return self.b.fmul(x, y)
        if op == "**":
            return self.float_pow(x, y)
        self.guard(self.b.fcmp_ordered("==", y, zero))
        if op == "/":
            return self.b.fdiv(x, y)
        return self.float_floordiv_mod(op, x, y)

    def float_floordiv_mod(self, op: str, x: ir.Value, y: ir.Value) -> ir.Value:
        """CPython's float_divmod (Objects/floatobject.c) for a non-zero divisor (NumPy's
        npy_divmod follows the same steps, in the operands' own precision)."""
        ty = x.type
        sfx = "f32" if ty == F32 else "f64"
        zero = ir.Constant(ty, 0.0)
        mod = self.b.frem(x, y)
        div = self.b.fdiv(self.b.fsub(x, mod), y)
        mod_nz = self.b.fcmp_unordered("!=", mod, zero)
        signs_differ = self.b.xor(self.b.fcmp_ordered("<", y, zero),
                                  self.b.fcmp_ordered("<", mod, zero))
        adjust = self.b.and_(mod_nz, signs_differ)
        signed_zero = self.float_call(f"llvm.copysign.{sfx}", zero, y)
        mod_adj = self.b.select(adjust, self.b.fadd(mod, y), mod)
        if op == "%":
            return self.b.select(mod_nz, mod_adj, signed_zero)
        div = self.b.select(adjust, self.b.fsub(div, ir.Constant(ty, 1.0)), div)
        floordiv = self.float_call(f"llvm.floor.{sfx}", div)
        bump = self.b.fcmp_ordered(">", self.b.fsub(div, floordiv), ir.Constant(ty, 0.5))
        floordiv = self.b.select(bump, self.b.fadd(floordiv, ir.Constant(ty, 1.0)), floordiv)
        zero_div = self.float_call(f"llvm.copysign.{sfx}", zero, self.b.fdiv(x, y))
        return self.b.select(self.b.fcmp_unordered("!=", div, zero), floordiv, zero_div)

    def float_pow(self, x: ir.Value, y: ir.Value) -> ir.Value:
        """C pow, except where CPython raises or returns complex, or NumPy warns (then
        deoptimise)."""
        sfx = "f32" if x.type == F32 else "f64"
        zero = ir.Constant(x.type, 0.0)
        result = self.float_call(f"llvm.pow.{sfx}", x, y)
        zero_neg = self.b.and_(self.b.fcmp_ordered("==", x, zero),
                               self.b.fcmp_ordered("<", y, zero))
        y_frac = self.b.fcmp_ordered("!=", self.float_call(f"llvm.floor.{sfx}", y), y)
        neg_frac = self.b.and_(self.b.fcmp_ordered("<", x, zero),
                               self.b.and_(y_frac, self.is_finite(y)))
        overflow = self.b.and_(self.b.not_(self.is_finite(result)),
                               self.b.and_(self.is_finite(x), self.is_finite(y)))
        self.guard(self.b.or_(zero_neg, self.b.or_(neg_frac, overflow)))
        return result

    def negate(self, a: Val) -> Val:
        if a.t.kind == "complex":
            return complexes.negate(self, a)
        t = Scalar("int", a.t.np) if a.t.kind == "bool" else a.t
        if a.t.kind == "float":
            return Val(self.b.fneg(a.v), t, a.tag)
        value = self.checked("ssub", ir.Constant(I64, 0), self.to_int(a))
        return Val(self.fit_int(value, t, a.tag), t, a.tag)

    # -- comparisons --------------------------------------------------------------
    def compare(self, op: str, a: Val, b: Val) -> ir.Value:
        """Exact for Python scalars (and NumPy integers against Python ints); otherwise in
        the type NumPy converts both sides to, deoptimising where that would round an
        integer (then NumPy's own inexact answer comes from CPython)."""
        if "complex" in (a.t.kind, b.t.kind):
            return complexes.compare(self, op, a, b, binop_result("+", a.t, b.t))
        cases = [(x, y) for x in alternatives(a.t) for y in alternatives(b.t)]
        if len({compare_domain(x, y) for x, y in cases}) > 1:  # per alternative, by tag
            results = [(self.compare(op, self.as_type(a, x), self.as_type(b, y)),
                        self.b.and_(self.is_alternative(a, x), self.is_alternative(b, y)))
                       for x, y in cases]
            out = results[0][0]
            for value, chosen in results[1:]:
                out = self.b.select(chosen, value, out)
            return out
        domain = compare_domain(*cases[0])
        if domain is None:
            return self.exact_compare(op, a, b)
        target = Scalar("float", True, domain.name)
        xs = []
        for side in (a, b):
            if side.t.kind != "float":  # an integer: only where the domain holds it exactly
                self.guard(self.b.not_(self.int_fits_mantissa(self.to_int(side),
                                                              domain.mantissa)))
            xs.append(self.operand(side, target))
        return self.float_compare(op, *xs)

    def as_type(self, val: Val, t: Scalar) -> Val:
        """A tagged value seen as one of its alternatives ``t`` (a float32 narrowed:
        exact when it is one)."""
        if t.single and not val.t.single:
            return Val(self.b.fptrunc(val.v, F32), t, TRUE)
        return Val(val.v, t, TRUE if t.np else FALSE)

    def is_alternative(self, val: Val, t: Scalar) -> ir.Value:
        """Whether tagged ``val`` currently holds alternative ``t``."""
        if val.t.np is not None:
            return TRUE
        return val.tag if t.np else self.b.not_(val.tag)

    def exact_compare(self, op: str, a: Val, b: Val) -> ir.Value:
        kinds = {a.t.kind, b.t.kind}
        if "float" not in kinds:
            return self.b.icmp_signed(op, self.to_int(a), self.to_int(b))
        for side in (a, b):
            if side.t.kind == "int":  # exact comparison: deopt beyond 2**53
                self.guard(self.b.not_(self.int_fits_double(side.v)))
        return self.float_compare(op, self.to_float(a), self.to_float(b))

    def float_compare(self, op: str, x: ir.Value, y: ir.Value) -> ir.Value:
        if op == "!=":
            return self.b.fcmp_unordered("!=", x, y)
        return self.b.fcmp_ordered(op, x, y)

    # -- builtins and math --------------------------------------------------------
    def abs_(self, a: Val) -> Val:
        if a.t.kind == "complex":
            return complexes.abs_(self, a)
        if a.t.kind == "float":
            sfx = "f32" if a.t.single else "f64"
            return Val(self.float_call(f"llvm.fabs.{sfx}", a.v), a.t, a.tag)
        x = self.to_int(a)
        neg = self.checked("ssub", ir.Constant(I64, 0), x)
        isneg = self.b.icmp_signed("<", x, ir.Constant(I64, 0))
        t = Scalar("int", a.t.np, a.t.dtype if a.t.kind == "int" else "")
        return Val(self.fit_int(self.b.select(isneg, neg, x), t, a.tag), t, a.tag)

    def min_max(self, name: str, vals: list[Val]) -> Val:
        """CPython keeps the first extreme: ``cur = x if x < cur else cur`` (NaN-faithful)."""
        cur = vals[0]
        op = "<" if name == "min" else ">"
        for x in vals[1:]:
            take = self.compare(op, x, cur)
            cur = Val(self.b.select(take, x.v, cur.v), cur.t,
                      self.b.select(take, x.tag, cur.tag))
        return cur

    def float_to_int(self, x: ir.Value) -> ir.Value:
        """int(float): truncation; NaN, inf and values outside int64 deoptimise."""
        lo = self.b.fcmp_ordered(">=", x, ir.Constant(F64, -(2.0 ** 63)))
        hi = self.b.fcmp_ordered("<", x, ir.Constant(F64, 2.0 ** 63))
        self.guard(self.b.not_(self.b.and_(lo, hi)))
        return self.b.fptosi(x, I64)

    def math_call(self, name: str, args: list[Val]) -> ir.Value:
        """math.<name>: libm/intrinsic result; CPython's errors show as NaN/inf -> deopt."""
        if name in ("floor", "ceil", "trunc"):
            if args[0].t.kind != "float":
                return self.to_int(args[0])
            rounded = self.float_call(f"llvm.{name}.f64", args[0].v)
            return self.float_to_int(rounded)
        xs = [self.to_float(a) for a in args]
        intrinsic = {"sqrt", "sin", "cos", "exp", "log", "fabs", "pow", "log10", "log2",
                     "copysign"}
        fname = f"llvm.{name}.f64" if name in intrinsic else name
        if name in _MATH_ERROR_ARGUMENTS:  # tested before the call, which then cannot fail
            self.guard(self.math_argument_error(name, xs[0]), deferrable=True)
            return self.float_call(fname, *xs)
        result = self.float_call(fname, *xs)
        if name in ("fabs", "copysign"):
            return result
        any_nan: ir.Value = FALSE
        all_finite: ir.Value = TRUE
        for x in xs:
            any_nan = self.b.or_(any_nan, self.is_nan(x))
            all_finite = self.b.and_(all_finite, self.is_finite(x))
        domain = self.b.and_(self.is_nan(result), self.b.not_(any_nan))
        overflow = self.b.and_(self.b.not_(self.is_finite(result)),
                               self.b.and_(all_finite, self.b.not_(self.is_nan(result))))
        self.guard(self.b.or_(domain, overflow))
        return result

    def math_argument_error(self, name: str, x: ir.Value) -> ir.Value:
        """Whether ``math.<name>(x)`` raises in CPython, from ``x`` alone (see
        ``_MATH_ERROR_ARGUMENTS``)."""
        kind, bound = _MATH_ERROR_ARGUMENTS[name]
        if kind == "inf":
            ax = self.float_call("llvm.fabs.f64", x)
            return self.b.fcmp_ordered("==", ax, ir.Constant(F64, math.inf))
        return self.b.fcmp_ordered(kind, x, ir.Constant(F64, bound))


#: math functions whose CPython error (``math_1``: a NaN result from a non-NaN
#: argument, or an infinite one from a finite argument) is decided by the argument
#: alone: name -> (test, bound).  Why: the generic test reads the result, so it waits
#: for the libm call and keeps the argument alive across it (spilled: every vector
#: register is caller-saved); one compare before the call costs ~a tenth of that
#: (trapezoid's ``sin(x) * exp(-x / 4)``).  sin/cos are NaN exactly for an infinite
#: argument and never infinite; exp is NaN only for NaN and overflows exactly above
#: the largest double whose exp is finite; sqrt fails below 0 (``-0.0`` gives
#: ``-0.0``), the logarithms at or below 0 (``inf`` gives ``inf``, NaN gives NaN).
_MATH_ERROR_ARGUMENTS: dict[str, tuple[str, float]] = {
    "sin": ("inf", math.inf), "cos": ("inf", math.inf),
    "exp": (">", float.fromhex("0x1.62e42fefa39efp+9")),
    "sqrt": ("<", 0.0), "log": ("<=", 0.0), "log2": ("<=", 0.0), "log10": ("<=", 0.0),
}


from . import complexes  # noqa: E402 - complexes builds on Ops (a cycle, resolved at call time)
