"""``cmath`` functions, as CPython's ``cmathmodule.c`` computes them, on the fast path.

Why written out and not libm's ``csqrt``/``cexp``...: CPython does not call those;
it has its own formulas (scaled ``sqrt``, ``log1p`` near the unit circle, ``hypot``
and ``atan2``), built from libm's real functions, and the results differ in the last
bit.  The compiled code follows those formulas for finite arguments of ordinary
size and deoptimises everywhere else: non-finite parts (CPython's special-value
tables), huge or subnormal parts (its rescaled paths), and wherever CPython raises
(``log(0)``, an overflowing ``exp``/``cosh``/``sinh``: OverflowError).  Results are
Python complex numbers or floats, whatever the argument type, as in CPython.
"""

from __future__ import annotations

import math
from typing import Callable

from llvmlite import ir

from .complexes import DBL_MIN, LARGE_DOUBLE, LOG_LARGE_DOUBLE, all_finite, pack, to_parts
from .ops import F64, FALSE, Ops, Val
from .types import BOOL, COMPLEX, FLOAT, JitType, JitTypeError, Scalar, Tuple

Parts = tuple[ir.Value, ir.Value]


def result_type(name: str, args: list[JitType]) -> JitType:
    """The type of ``cmath.<name>(*args)`` (JitTypeError where it is not compiled)."""
    if name not in _FUNCS and name not in ("rect", "polar", "phase", "isfinite", "isnan",
                                           "isinf"):
        raise JitTypeError(f"call to cmath.{name}")
    arity = 2 if name == "rect" else 1
    if len(args) != arity or not all(isinstance(t, Scalar) for t in args):
        raise JitTypeError(f"cmath.{name} of {args}")
    if name == "rect" and any(t.kind == "complex" for t in args):  # type: ignore[union-attr]
        raise JitTypeError("cmath.rect of a complex")
    if any(t.kind == "bool" and t.np for t in args):  # type: ignore[union-attr]
        raise JitTypeError(f"cmath.{name} of a numpy bool")
    if name in ("isfinite", "isnan", "isinf"):
        return BOOL
    if name == "phase":
        return FLOAT
    if name == "polar":
        return Tuple((FLOAT, FLOAT))
    return COMPLEX


def lower(ops: Ops, name: str, args: list[Val]) -> Val | list[Val]:
    """``cmath.<name>(*args)`` (types from ``result_type``)."""
    if name == "rect":
        return _complex(ops, _rect(ops, ops.to_float(args[0]), ops.to_float(args[1])))
    re, im = to_parts(ops, args[0], False)
    b = ops.b
    if name in ("isfinite", "isnan", "isinf"):
        test: Callable[[ir.Value], ir.Value] = {
            "isfinite": ops.is_finite, "isnan": ops.is_nan,
            "isinf": lambda x: b.fcmp_ordered("==", ops.float_call("llvm.fabs.f64", x),
                                              ir.Constant(F64, math.inf))}[name]
        combine = b.and_ if name == "isfinite" else b.or_
        return Val(combine(test(re), test(im)), BOOL, FALSE)
    ops.guard(b.not_(all_finite(ops, [re, im])))  # CPython's special-value tables
    if name == "phase":
        return Val(_atan2(ops, im, re), FLOAT, FALSE)
    if name == "polar":
        modulus = _call(ops, "hypot", re, im)
        ops.guard(b.not_(ops.is_finite(modulus)))  # OverflowError
        return [Val(modulus, FLOAT, FALSE), Val(_atan2(ops, im, re), FLOAT, FALSE)]
    out = _FUNCS[name](ops, (re, im))
    ops.guard(b.not_(all_finite(ops, list(out))))  # OverflowError (or a rescaled path)
    return _complex(ops, out)


def _complex(ops: Ops, z: Parts) -> Val:
    return Val(pack(ops, *z), COMPLEX, FALSE)


def _call(ops: Ops, name: str, *xs: ir.Value) -> ir.Value:
    return ops.b.call(ops.intrinsic(name, F64, [F64] * len(xs)), list(xs))


def _atan2(ops: Ops, y: ir.Value, x: ir.Value) -> ir.Value:
    """atan2, with glibc's ERANGE case (a result that underflows to 0 for a non-zero
    ``y``, and any tiny result) deoptimising."""
    b = ops.b
    r = _call(ops, "atan2", y, x)
    tiny = b.fcmp_ordered("<", _abs(ops, r), _const(DBL_MIN))
    ops.guard(b.and_(tiny, b.fcmp_unordered("!=", y, _const(0.0))))
    return r


def _abs(ops: Ops, x: ir.Value) -> ir.Value:
    return ops.float_call("llvm.fabs.f64", x)


def _const(x: float) -> ir.Constant:
    return ir.Constant(F64, x)


def _sqrt(ops: Ops, z: Parts) -> Parts:
    """``cmath_sqrt_impl``: ``s = 2 sqrt(|x|/8 + hypot(|x|/8, |y|/8))``; both parts
    below DBL_MIN (but not both zero) take its rescaled path: deoptimise."""
    b = ops.b
    re, im = z
    ax, ay = _abs(ops, re), _abs(ops, im)
    both_zero = b.and_(b.fcmp_ordered("==", re, _const(0.0)),
                       b.fcmp_ordered("==", im, _const(0.0)))
    tiny = b.and_(b.fcmp_ordered("<", ax, _const(DBL_MIN)),
                  b.fcmp_ordered("<", ay, _const(DBL_MIN)))
    ops.guard(b.and_(tiny, b.not_(both_zero)))
    ax8 = b.fdiv(ax, _const(8.0))
    s = b.fmul(_const(2.0), ops.float_call(
        "llvm.sqrt.f64", b.fadd(ax8, _call(ops, "hypot", ax8, b.fdiv(ay, _const(8.0))))))
    d = b.fdiv(ay, b.fmul(_const(2.0), s))
    nonneg = b.fcmp_ordered(">=", re, _const(0.0))
    out_re = b.select(nonneg, s, d)
    out_im = ops.float_call("llvm.copysign.f64", b.select(nonneg, d, s), im)
    return b.select(both_zero, _const(0.0), out_re), b.select(both_zero, im, out_im)


def _exp(ops: Ops, z: Parts) -> Parts:
    """``cmath_exp_impl``: ``exp(x) cos(y), exp(x) sin(y)`` (x beyond log(DBL_MAX / 4):
    its rescaled path, deoptimise)."""
    b = ops.b
    re, im = z
    ops.guard(b.fcmp_ordered(">", re, _const(LOG_LARGE_DOUBLE)))
    scale = ops.float_call("llvm.exp.f64", re)
    return (b.fmul(scale, ops.float_call("llvm.cos.f64", im)),
            b.fmul(scale, ops.float_call("llvm.sin.f64", im)))


def _log(ops: Ops, z: Parts) -> Parts:
    """``c_log``: ``log1p((am - 1)(am + 1) + an**2) / 2`` when ``0.71 <= |z| <= 1.73``,
    else ``log(|z|)``; huge or subnormal parts (and ``log(0)``, ValueError) deoptimise."""
    b = ops.b
    re, im = z
    ax, ay = _abs(ops, re), _abs(ops, im)
    huge = b.or_(b.fcmp_ordered(">", ax, _const(LARGE_DOUBLE)),
                 b.fcmp_ordered(">", ay, _const(LARGE_DOUBLE)))
    tiny = b.and_(b.fcmp_ordered("<", ax, _const(DBL_MIN)),
                  b.fcmp_ordered("<", ay, _const(DBL_MIN)))
    ops.guard(b.or_(huge, tiny))
    h = _call(ops, "hypot", ax, ay)
    near_one = b.and_(b.fcmp_ordered("<=", _const(0.71), h),
                      b.fcmp_ordered("<=", h, _const(1.73)))
    x_larger = b.fcmp_ordered(">", ax, ay)
    am, an = b.select(x_larger, ax, ay), b.select(x_larger, ay, ax)
    inner = b.fadd(b.fmul(b.fsub(am, _const(1.0)), b.fadd(am, _const(1.0))), b.fmul(an, an))
    log1p = _call(ops, "log1p", inner)
    tiny = b.fcmp_ordered("<", _abs(ops, log1p), _const(DBL_MIN))
    ops.guard(b.and_(near_one, b.and_(tiny, b.fcmp_unordered("!=", inner, _const(0.0)))))
    near = b.fdiv(log1p, _const(2.0))
    far = ops.float_call("llvm.log.f64", h)
    return b.select(near_one, near, far), _atan2(ops, im, re)


def _log10(ops: Ops, z: Parts) -> Parts:
    re, im = _log(ops, z)
    ln10 = _const(math.log(10))
    return ops.b.fdiv(re, ln10), ops.b.fdiv(im, ln10)


def _hyperbolic(ops: Ops, z: Parts, sine: bool) -> Parts:
    """``cmath_cosh_impl`` / ``cmath_sinh_impl`` for |x| up to log(DBL_MAX / 4)."""
    b = ops.b
    re, im = z
    ops.guard(b.fcmp_ordered(">", _abs(ops, re), _const(LOG_LARGE_DOUBLE)))
    cos_y, sin_y = ops.float_call("llvm.cos.f64", im), ops.float_call("llvm.sin.f64", im)
    cosh_x, sinh_x = _call(ops, "cosh", re), _call(ops, "sinh", re)
    if sine:
        return b.fmul(cos_y, sinh_x), b.fmul(sin_y, cosh_x)
    return b.fmul(cos_y, cosh_x), b.fmul(sin_y, sinh_x)


def _cos(ops: Ops, z: Parts) -> Parts:
    """``cos(z) = cosh(iz)``, as CPython writes it."""
    return _hyperbolic(ops, (ops.b.fneg(z[1]), z[0]), False)


def _sin(ops: Ops, z: Parts) -> Parts:
    """``sin(z) = -i sinh(iz)``, as CPython writes it."""
    s_re, s_im = _hyperbolic(ops, (ops.b.fneg(z[1]), z[0]), True)
    return s_im, ops.b.fneg(s_re)


def _rect(ops: Ops, r: ir.Value, phi: ir.Value) -> Parts:
    """``cmath_rect_impl``: ``r cos(phi), r sin(phi)``; for ``phi == 0``: ``r, r * phi``."""
    b = ops.b
    ops.guard(b.not_(all_finite(ops, [r, phi])))
    zero = b.fcmp_ordered("==", phi, _const(0.0))
    re = b.select(zero, r, b.fmul(r, ops.float_call("llvm.cos.f64", phi)))
    im = b.select(zero, b.fmul(r, phi), b.fmul(r, ops.float_call("llvm.sin.f64", phi)))
    return re, im


_FUNCS: dict[str, Callable[[Ops, Parts], Parts]] = {
    "sqrt": _sqrt, "exp": _exp, "log": _log, "log10": _log10,
    "cosh": lambda ops, z: _hyperbolic(ops, z, False),
    "sinh": lambda ops, z: _hyperbolic(ops, z, True), "cos": _cos, "sin": _sin}
