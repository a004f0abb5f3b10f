"""Complex numbers: Python ``complex``, ``np.complex128`` and ``np.complex64``, as IR.

A complex value is an LLVM ``{double, double}`` (``{float, float}`` for a
``complex64``), one register pair, never boxed.  Python's and NumPy's
arithmetic differ where it shows in the last bit, so both are written out:
- CPython (3.11) turns an int or float operand into ``complex(x, 0.0)`` and
  does full complex arithmetic; its division is ``_Py_c_quot`` (divides by the
  scaled denominator), zero divides raise (here: deoptimise), and nothing else
  fails (``abs`` raises OverflowError for an infinite result of finite parts).
- NumPy computes in the operands' common complex type (complex64 in float32),
  divides by multiplying with ``1 / denominator`` (its Smith's-method loop), and
  warns on overflow, invalid results and zero divisors: any non-finite input,
  result or intermediate deoptimises, so CPython (NumPy) warns exactly.
Complex values never mix with their NumPy alternatives in one local (no runtime
tag): such code runs in CPython.
"""

from __future__ import annotations

import math
import sys

from llvmlite import ir

from .ops import F32, F64, FALSE, TRUE, Ops, Val
from .types import COMPLEX, FLOAT, JitTypeError, Scalar

C128 = ir.LiteralStructType([F64, F64])
C64 = ir.LiteralStructType([F32, F32])
#: cmath's thresholds (cmathmodule.c): beyond them CPython takes its own scaled paths,
#: which the compiled code leaves to it (deoptimises).
LARGE_DOUBLE = sys.float_info.max / 4
LOG_LARGE_DOUBLE = math.log(LARGE_DOUBLE)
DBL_MIN = sys.float_info.min


def struct_type(t: Scalar) -> ir.LiteralStructType:
    """Where a complex of type ``t`` lives."""
    return C64 if is_single(t) else C128


def is_single(t: Scalar) -> bool:
    return t.np is True and t.dtype == "complex64"


def pack(ops: Ops, re: ir.Value, im: ir.Value) -> ir.Value:
    ty = C64 if re.type == F32 else C128
    packed = ops.b.insert_value(ir.Constant(ty, ir.Undefined), re, 0)
    return ops.b.insert_value(packed, im, 1)


def parts(ops: Ops, val: Val) -> tuple[ir.Value, ir.Value]:
    return ops.b.extract_value(val.v, 0), ops.b.extract_value(val.v, 1)


def constant(value: complex) -> ir.Constant:
    return ir.Constant(C128, [ir.Constant(F64, value.real), ir.Constant(F64, value.imag)])


def to_parts(ops: Ops, val: Val, single: bool) -> tuple[ir.Value, ir.Value]:
    """``val`` (any scalar) as the real and imaginary parts of a complex of precision
    ``single`` (float32) or double, the way CPython or NumPy converts it; a narrowing
    that would overflow, or a Python int NumPy would round twice, deoptimises."""
    b = ops.b
    if val.t.kind == "complex":
        re, im = parts(ops, val)
    elif val.t.kind == "int" and single:
        if val.t.np is not True:
            ops.guard(b.not_(ops.int_fits_mantissa(val.v, 24)))
        return b.sitofp(val.v, F32), ir.Constant(F32, 0.0)
    else:
        re, im = ops.to_float(val), ir.Constant(F64, 0.0)
    if single and re.type == F64:
        narrow = [b.fptrunc(x, F32) for x in (re, im)]
        for wide, thin in zip((re, im), narrow):
            ops.guard(b.and_(ops.is_finite(wide), b.not_(ops.is_finite(thin))))
        return narrow[0], narrow[1]
    if not single and re.type == F32:
        return b.fpext(re, F64), b.fpext(im, F64)
    return re, im


def all_finite(ops: Ops, xs: list[ir.Value]) -> ir.Value:
    out: ir.Value = TRUE
    for x in xs:
        out = ops.b.and_(out, ops.is_finite(x))
    return out


def binop(ops: Ops, op: str, a: Val, b: Val, result: Scalar) -> Val:
    """``a <op> b`` for + - * / with a complex result (``types.binop_result``)."""
    if op not in ("+", "-", "*", "/"):
        raise JitTypeError(f"complex {op}")
    single = is_single(result)
    (ar, ai), (br, bi) = to_parts(ops, a, single), to_parts(ops, b, single)
    bld = ops.b
    # NumPy's semantics now: always, never, or by the runtime tag (a local that holds a
    # Python complex or an np.complex128: one representation, two arithmetics)
    tag = ops.tag_or(a, b) if result.np is None else (TRUE if result.np else FALSE)
    checked = [ar, ai, br, bi]
    if op in ("+", "-"):
        f = bld.fadd if op == "+" else bld.fsub
        re, im = f(ar, br), f(ai, bi)
    elif op == "*":
        re = bld.fsub(bld.fmul(ar, br), bld.fmul(ai, bi))
        im = bld.fadd(bld.fmul(ar, bi), bld.fmul(ai, br))
    elif result.np is False:
        re, im = _python_quotient(ops, ar, ai, br, bi)
    else:
        re, im, intermediates = _numpy_quotient(ops, ar, ai, br, bi)
        checked += intermediates
        if result.np is None:
            py_re, py_im = _python_quotient(ops, ar, ai, br, bi)
            re, im = bld.select(tag, re, py_re), bld.select(tag, im, py_im)
    if result.np is not False:
        ops.guard(bld.and_(tag, bld.not_(all_finite(ops, checked + [re, im]))))
    return Val(pack(ops, re, im), result, tag)


def _python_quotient(ops: Ops, ar: ir.Value, ai: ir.Value, br: ir.Value,
                     bi: ir.Value) -> tuple[ir.Value, ir.Value]:
    """CPython's ``_Py_c_quot``: by the larger part of the divisor; 0 deoptimises
    (ZeroDivisionError), a NaN part gives NaN + NaN j."""
    b = ops.b
    abs_r, abs_i = (ops.float_call("llvm.fabs.f64", x) for x in (br, bi))
    ops.guard(b.and_(b.fcmp_ordered("==", br, ir.Constant(F64, 0.0)),
                     b.fcmp_ordered("==", bi, ir.Constant(F64, 0.0))))
    by_real = b.fcmp_ordered(">=", abs_r, abs_i)
    ratio_r = b.fdiv(bi, br)
    denom_r = b.fadd(br, b.fmul(bi, ratio_r))
    re_r = b.fdiv(b.fadd(ar, b.fmul(ai, ratio_r)), denom_r)
    im_r = b.fdiv(b.fsub(ai, b.fmul(ar, ratio_r)), denom_r)
    ratio_i = b.fdiv(br, bi)
    denom_i = b.fadd(b.fmul(br, ratio_i), bi)
    re_i = b.fdiv(b.fadd(b.fmul(ar, ratio_i), ai), denom_i)
    im_i = b.fdiv(b.fsub(b.fmul(ai, ratio_i), ar), denom_i)
    nan = ir.Constant(F64, math.nan)
    by_imag = b.fcmp_ordered(">=", abs_i, abs_r)
    re = b.select(by_real, re_r, b.select(by_imag, re_i, nan))
    im = b.select(by_real, im_r, b.select(by_imag, im_i, nan))
    return re, im


def _numpy_quotient(ops: Ops, ar: ir.Value, ai: ir.Value, br: ir.Value,
                    bi: ir.Value) -> tuple[ir.Value, ir.Value, list[ir.Value]]:
    """NumPy's complex divide loop (Smith's method, multiplying by ``1 / denominator``),
    and its intermediates (the caller deoptimises where anything is not finite: an
    overflow on the way warns in NumPy even when the quotient is finite)."""
    b = ops.b
    ty = ar.type
    sfx = "f32" if ty == F32 else "f64"
    abs_r, abs_i = (ops.float_call(f"llvm.fabs.{sfx}", x) for x in (br, bi))
    zero, one = ir.Constant(ty, 0.0), ir.Constant(ty, 1.0)
    ops.guard(b.and_(b.fcmp_ordered("==", br, zero), b.fcmp_ordered("==", bi, zero)))
    by_real = b.fcmp_ordered(">=", abs_r, abs_i)
    rat = b.select(by_real, b.fdiv(bi, br), b.fdiv(br, bi))
    denominator = b.select(by_real, b.fadd(br, b.fmul(bi, rat)), b.fadd(bi, b.fmul(br, rat)))
    scl = b.fdiv(one, denominator)
    re = b.select(by_real, b.fmul(b.fadd(ar, b.fmul(ai, rat)), scl),
                  b.fmul(b.fadd(b.fmul(ar, rat), ai), scl))
    im = b.select(by_real, b.fmul(b.fsub(ai, b.fmul(ar, rat)), scl),
                  b.fmul(b.fsub(b.fmul(ai, rat), ar), scl))
    return re, im, [rat, denominator, scl]


def negate(ops: Ops, a: Val) -> Val:
    re, im = parts(ops, a)
    if a.t.np is not False:
        ops.guard(ops.b.and_(a.tag, ops.b.not_(all_finite(ops, [re, im]))))
    return Val(pack(ops, ops.b.fneg(re), ops.b.fneg(im)), a.t, a.tag)


def truth(ops: Ops, a: Val) -> ir.Value:
    re, im = parts(ops, a)
    zero = ir.Constant(re.type, 0.0)
    return ops.b.or_(ops.b.fcmp_unordered("!=", re, zero), ops.b.fcmp_unordered("!=", im, zero))


def compare(ops: Ops, op: str, a: Val, b: Val, domain: Scalar) -> ir.Value:
    """``a == b`` / ``a != b`` with a complex side, in ``domain`` (the complex type
    NumPy converts both to; Python complex: exact, a Python int beyond 2**53
    deoptimises)."""
    if op not in ("==", "!="):
        raise JitTypeError(f"complex {op}")
    single = is_single(domain)
    for side in (a, b):
        if side.t.kind == "int" and side.t.np is not True and not single:
            ops.guard(ops.b.not_(ops.int_fits_double(side.v)))
    (ar, ai), (br, bi) = to_parts(ops, a, single), to_parts(ops, b, single)
    equal = ops.b.and_(ops.b.fcmp_ordered("==", ar, br), ops.b.fcmp_ordered("==", ai, bi))
    return equal if op == "==" else ops.b.not_(equal)


def real_type(t: Scalar) -> Scalar:
    """The type of ``abs(z)``, ``z.real``, ``z.imag`` for a complex ``z`` of type ``t``."""
    if t.np is False:
        return FLOAT
    return Scalar("float", t.np, "float32" if is_single(t) else "float64")


def abs_(ops: Ops, a: Val) -> Val:
    """``abs(z)``: libm's hypot (hypotf for complex64), as CPython and NumPy call it;
    an infinite result deoptimises (OverflowError, NumPy's warning)."""
    re, im = parts(ops, a)
    single = re.type == F32
    fn = ops.intrinsic("hypotf" if single else "hypot", re.type, [re.type, re.type])
    result = ops.b.call(fn, [re, im])
    # Non-finite parts deoptimise too: CPython's NaN path leaves errno as it was, so
    # a stale ERANGE raises there (its answer, whatever it is, comes from CPython).
    ops.guard(ops.b.not_(all_finite(ops, [re, im, result])))
    return Val(result, real_type(a.t), a.tag)


def part(ops: Ops, a: Val, which: str) -> Val:
    """``z.real`` / ``z.imag``."""
    re, im = parts(ops, a)
    return Val(re if which == "real" else im, real_type(a.t), a.tag)


def conjugate(ops: Ops, a: Val) -> Val:
    re, im = parts(ops, a)
    return Val(pack(ops, re, ops.b.fneg(im)), a.t, a.tag)


def construct(ops: Ops, args: list[Val]) -> Val:
    """``complex(x)`` / ``complex(re, im)`` of real scalars (or ``complex(z)``)."""
    if len(args) == 1 and args[0].t.kind == "complex":
        re, im = to_parts(ops, args[0], False)
    else:
        re = ops.to_float(args[0])
        im = ops.to_float(args[1]) if len(args) == 2 else ir.Constant(F64, 0.0)
    return Val(pack(ops, re, im), COMPLEX, FALSE)


def convert(ops: Ops, val: Val, dtype: str) -> Val:
    """``np.complex64(x)`` / ``np.complex128(x)``, or a store into such an array."""
    single = dtype == "complex64"
    re, im = to_parts(ops, val, single)
    return Val(pack(ops, re, im), Scalar("complex", True, dtype), TRUE)


def pack_params(ops: Ops, re: ir.Value, im: ir.Value, t: Scalar) -> ir.Value:
    """A complex parameter from its two double parameters (``abi``: float32 values for a
    complex64, narrowed exactly)."""
    if is_single(t):
        re, im = ops.b.fptrunc(re, F32), ops.b.fptrunc(im, F32)
    return pack(ops, re, im)
