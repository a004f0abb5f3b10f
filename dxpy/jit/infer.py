"""Type inference: one pass over a function's ``ast`` for one argument signature.

Why flow-insensitive with a fixpoint: locals are kept unboxed in one LLVM
slot each, so each local needs one type for the whole function.  The pass
re-walks the body until no local changes type (loops feed types back to
their heads).  Anything outside the subset raises :class:`JitTypeError`;
the dispatcher then runs that signature in CPython, so an unsupported
construct costs speed, never correctness.
"""

from __future__ import annotations

import ast
import cmath
import math

import numpy as np
from dataclasses import dataclass, field
from typing import Any, Callable

from . import cmath_calls, complexes, lists, local_arrays, simd_calls
from .types import (BOOL, BOTTOM, COMPLEX, DTYPES, FLOAT, INT, NONE, Array, Bottom, JitType,
                    JitTypeError, List, Scalar, Tuple, binop_result, unify)

#: math functions compiled to LLVM intrinsics or libm calls: name -> arity.
MATH_FUNCS: dict[str, int] = {
    "sqrt": 1, "sin": 1, "cos": 1, "tan": 1, "exp": 1, "log": 1, "fabs": 1, "floor": 1,
    "ceil": 1, "pow": 2, "atan": 1, "atan2": 2, "asin": 1, "acos": 1, "tanh": 1, "sinh": 1,
    "cosh": 1, "log10": 1, "log2": 1, "copysign": 2, "trunc": 1,
}
# Not hypot: CPython computes its own (not libm's), 1 ULP apart on some inputs (e.g. tiny ones).
#: ``np.<name>`` scalar constructors the JIT compiles: name -> dtype.
NUMPY_SCALAR_NAMES = {**{name: name for name in DTYPES if name != "bool"}, "bool_": "bool",
                      "double": "float64", "single": "float32", "intp": "int64",
                      "uintp": "uint64", "byte": "int8", "ubyte": "uint8", "short": "int16",
                      "ushort": "uint16", "intc": "int32", "uintc": "uint32",
                      "csingle": "complex64", "cdouble": "complex128"}
MATH_CONSTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau, "inf": math.inf}
ARITH_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
_OP_SYMBOLS: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/",
                                ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**"}

#: resolves a callee (a Dispatcher) at a signature to its inferred return type.
CalleeResolver = Callable[[Any, tuple[JitType, ...]], JitType]


@dataclass
class TypedFunction:
    """The result of inference: everything the lowering pass needs."""

    node: ast.FunctionDef
    name: str
    argnames: list[str]
    argtypes: tuple[JitType, ...]
    locals: dict[str, JitType]
    exprs: dict[ast.AST, JitType]
    return_type: JitType
    callees: dict[ast.Call, tuple[Any, tuple[JitType, ...]]] = field(default_factory=dict)
    stores_arrays: bool = False
    #: array parameters this function stores into itself, and whether it hands arrays
    #: to compiled callees (which may store into them): what the dispatcher snapshots.
    stored_params: frozenset[str] = frozenset()
    arrays_to_callees: bool = False
    #: an out-of-bounds index raises IndexError in place (status 2) instead of deoptimising.
    #: Only worth it where it can spare the array snapshot: a function that stores into
    #: arrays and has no other likely deopt (``likely_deopts``).  Elsewhere the plain deopt
    #: is kept because a second kind of exit makes LLVM duplicate loops (~30% compile time).
    exact_index_errors: bool = False
    #: local arrays (``local_arrays``): name -> (constructor, shape)
    local_arrays: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)
    #: calls of the ``cmath`` module's functions (``cmath_calls``)
    cmath_calls: frozenset[ast.Call] = frozenset()


def is_call_of(node: ast.AST, name: str) -> bool:
    """Whether ``node`` is ``name(...)`` with positional arguments only."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == name and not node.keywords and bool(node.args))


def array_iterables(node: ast.expr) -> list[ast.expr]:
    """The arrays a ``for`` loop walks: ``a``, ``enumerate(a)``, ``zip(a, b, ...)``."""
    if is_call_of(node, "enumerate") and len(node.args) == 1:  # type: ignore[attr-defined]
        return [node.args[0]]  # type: ignore[attr-defined]
    if is_call_of(node, "zip"):
        return list(node.args)  # type: ignore[attr-defined]
    return [node]


def _is_range_call(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "range" and 1 <= len(node.args) <= 3 and not node.keywords)


class Inferer:
    """Infers local, expression and return types of one function for one signature."""

    def __init__(self, node: ast.FunctionDef, globals_: dict[str, Any],
                 argtypes: tuple[JitType, ...], resolve_callee: CalleeResolver,
                 is_dispatcher: Callable[[Any], bool]) -> None:
        self.node = node
        self.globals = globals_
        self.argtypes = argtypes
        self.resolve_callee = resolve_callee
        self.is_dispatcher = is_dispatcher
        self.argnames = [a.arg for a in node.args.args]
        self.locals: dict[str, JitType] = dict(zip(self.argnames, argtypes))
        self.exprs: dict[ast.AST, JitType] = {}
        self.callees: dict[ast.Call, tuple[Any, tuple[JitType, ...]]] = {}
        self.ret: JitType = BOTTOM
        self.stores_arrays = False
        self.stored_params: set[str] = set()
        self.arrays_to_callees = False
        self.local_arrays: dict[str, tuple[str, tuple[int, ...]]] = {}
        self.changed = False
        self.cmath_nodes: set[ast.Call] = set()

    def run(self) -> TypedFunction:
        """Walk the body until locals and the return type stop changing."""
        args = self.node.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs or args.defaults:
            raise JitTypeError("only plain positional parameters are compiled")
        if len(self.argnames) != len(self.argtypes):
            raise JitTypeError("wrong number of arguments")
        for _ in range(50):
            self.changed = False
            self.block(self.node.body)
            if not self.changed:
                break
        else:
            raise JitTypeError("type inference did not converge")
        if isinstance(self.ret, Bottom):
            self.ret = NONE if not self._has_value_return() else BOTTOM
        if _falls_off_end(self.node.body) and not isinstance(self.ret, (type(NONE), Bottom)):
            raise JitTypeError("function may return both None and a value")
        exact = self.stores_arrays and not likely_deopts(self.node, self.exprs, self.callees)
        return TypedFunction(self.node, self.node.name, self.argnames, self.argtypes,
                             self.locals, self.exprs, self.ret, self.callees,
                             self.stores_arrays, frozenset(self.stored_params),
                             self.arrays_to_callees, exact, self.local_arrays,
                             frozenset(self.cmath_nodes))

    def _has_value_return(self) -> bool:
        return any(isinstance(n, ast.Return) and n.value is not None
                   for n in ast.walk(self.node))

    # -- statements ---------------------------------------------------------------
    def block(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            self.stmt(stmt)

    def bind(self, name: str, t: JitType) -> None:
        """Give local ``name`` type ``t`` (unified with what it already had)."""
        if isinstance(t, (Array, type(NONE))) and name not in self.argnames \
                and name not in self.local_arrays:
            raise JitTypeError(f"local {name!r} cannot hold {t}")
        old = self.locals.get(name, BOTTOM)
        new = unify(old, t, f"variable {name!r}")
        if new != old:
            if name in self.argnames and isinstance(old, Array):
                raise JitTypeError(f"array parameter {name!r} is reassigned")
            self.locals[name] = new
            self.changed = True

    def stmt(self, s: ast.stmt) -> None:
        if isinstance(s, ast.Assign) and self.local_array(s) is not None:
            self.bind(s.targets[0].id, self.local_array(s))  # type: ignore[arg-type, attr-defined]
        elif isinstance(s, ast.Assign):
            t = self.list_display(s.value) if lists.is_display(s.value) else self.expr(s.value)
            for target in s.targets:  # ``a = b = v``: one value, stored left to right
                self.assign(target, t)
        elif isinstance(s, ast.AugAssign):
            if not isinstance(s.op, ARITH_OPS):
                raise JitTypeError(f"operator {type(s.op).__name__}")
            current = self.expr(s.target)
            self.assign(s.target, self.binop_type(s.op, current, self.expr(s.value)))
        elif isinstance(s, ast.AnnAssign) and s.value is not None and s.simple:
            self.assign(s.target, self.expr(s.value))
        elif isinstance(s, ast.If):
            self.condition(s.test)
            self.block(s.body)
            self.block(s.orelse)
        elif isinstance(s, ast.While):
            self.condition(s.test)
            self.block(s.body)
            self.block(s.orelse)
        elif isinstance(s, ast.For):
            self.for_range(s)
        elif isinstance(s, ast.Return):
            t = NONE if s.value is None else self.expr(s.value)
            if isinstance(t, Array):
                raise JitTypeError("returning an array")
            new = unify(self.ret, t, "the return value")
            if new != self.ret:
                self.ret = new
                self.changed = True
        elif isinstance(s, ast.Expr):
            if not isinstance(s.value, ast.Call):
                if isinstance(s.value, ast.Constant):  # docstring
                    return
                raise JitTypeError("expression statement")
            self.expr(s.value)
        elif not isinstance(s, (ast.Pass, ast.Break, ast.Continue)):
            raise JitTypeError(f"statement {type(s).__name__}")

    def local_array(self, s: ast.Assign) -> Array | None:
        """The type of ``name = np.zeros(shape[, dtype])`` (``local_arrays``), else None."""
        made = local_arrays.constructor(s.value, self.globals)
        if made is None:
            return None
        if len(s.targets) != 1 or not isinstance(s.targets[0], ast.Name) \
                or s.targets[0].id in self.argnames:
            raise JitTypeError("a local array must be assigned to one new local name")
        name = s.targets[0].id
        local_arrays.check_single_assignment(self.node, name)
        kind, shape, dtype = made
        self.local_arrays[name] = (kind, shape)
        return Array(dtype, len(shape), True)

    def for_range(self, s: ast.For) -> None:
        if not _is_range_call(s.iter):
            self.for_arrays(s)
            return
        if not isinstance(s.target, ast.Name):
            raise JitTypeError("unpacking range() items")
        assert isinstance(s.iter, ast.Call)
        for arg in s.iter.args:
            t = self.expr(arg)
            if not (isinstance(t, Scalar) and t.kind in ("int", "bool")):
                raise JitTypeError("range() of a non-integer")
        self.bind(s.target.id, INT)
        self.block(s.body)
        self.block(s.orelse)

    def for_arrays(self, s: ast.For) -> None:
        """``for x in a``, ``for i, x in enumerate(a)``, ``for x, y in zip(a, b)`` over
        1-d arrays (items are elements; zip stops at the shortest)."""
        items = [self.container(a) for a in array_iterables(s.iter)]
        if any(isinstance(t, Bottom) for t in items):
            return
        if not all(isinstance(t, List) or isinstance(t, Array) and t.ndim == 1 for t in items):
            raise JitTypeError("for loop over something other than range(), 1-d arrays or "
                               "local lists")
        kinds: list[JitType] = [t.item if isinstance(t, List) else t.element  # type: ignore
                                for t in items]
        if is_call_of(s.iter, "enumerate"):
            kinds.insert(0, INT)
        self.assign(s.target, kinds[0] if len(kinds) == 1 and not is_call_of(s.iter, "zip")
                    else Tuple(tuple(kinds)))  # type: ignore[arg-type]
        self.block(s.body)
        self.block(s.orelse)

    def assign(self, target: ast.expr, t: JitType) -> None:
        if isinstance(target, ast.Name):
            self.bind(target.id, t)
        elif isinstance(target, ast.Subscript) and isinstance(self.container(target.value), List):
            assert isinstance(target.value, ast.Name)
            self.bind(target.value.id, lists.stored_type(self.list_subscript(target), t))
        elif isinstance(target, ast.Subscript):
            arr = self.subscript_array(target)
            if not isinstance(t, (Scalar, Bottom)):
                raise JitTypeError(f"storing {t} into {arr}")
            local = isinstance(target.value, ast.Name) and target.value.id in self.local_arrays
            self.stores_arrays |= not local  # a local array needs no snapshot
            if isinstance(target.value, ast.Name) and not local:
                self.stored_params.add(target.value.id)
        elif isinstance(target, ast.Tuple) and isinstance(t, Tuple):
            if len(target.elts) != len(t.items):
                raise JitTypeError("tuple unpacking length mismatch")
            for elt, item in zip(target.elts, t.items):
                self.assign(elt, item)
        else:
            raise JitTypeError(f"assignment to {type(target).__name__}")
        self.exprs[target] = t

    def condition(self, test: ast.expr) -> None:
        t = self.expr(test)
        if not isinstance(t, Scalar):
            raise JitTypeError(f"truth value of {t}")

    # -- expressions --------------------------------------------------------------
    def expr(self, e: ast.expr) -> JitType:
        t = self._expr(e)
        self.exprs[e] = t
        return t

    def _expr(self, e: ast.expr) -> JitType:
        if isinstance(e, ast.Constant):
            v = e.value
            if type(v) is bool:
                return BOOL
            if type(v) is int:
                if not -(1 << 63) <= v < (1 << 63):
                    raise JitTypeError("integer constant outside int64")
                return INT
            if type(v) is float:
                return FLOAT
            if type(v) is complex:
                return COMPLEX
            raise JitTypeError(f"constant {v!r}")
        if isinstance(e, ast.Name):
            if isinstance(self.locals.get(e.id), List):
                raise JitTypeError(f"list {e.id!r} used as a value (returned, passed, aliased "
                                   "or compared): only lists that stay local are compiled")
            if e.id in self.locals:
                return self.locals[e.id]
            if e.id in self.globals or e.id in ("True", "False"):
                raise JitTypeError(f"global {e.id!r} used as a value")
            return BOTTOM  # assigned later in the loop; the fixpoint settles it
        if isinstance(e, ast.List) or isinstance(e, ast.BinOp) \
                and lists.repeated_display(e) is not None:
            raise JitTypeError("expression List (a list is compiled only as a local "
                               "that stays in the function: name = [...])")
        if isinstance(e, ast.BinOp):
            if not isinstance(e.op, ARITH_OPS):
                raise JitTypeError(f"operator {type(e.op).__name__}")
            return self.binop_type(e.op, self.expr(e.left), self.expr(e.right))
        if isinstance(e, ast.UnaryOp):
            t = self.expr(e.operand)
            if not isinstance(t, Scalar):
                return self._bottom_or_error(t, "unary operand")
            if isinstance(e.op, ast.Not):
                return BOOL
            if isinstance(e.op, (ast.USub, ast.UAdd)):
                if t.kind == "bool" and t.np is not False:
                    raise JitTypeError("arithmetic on numpy bool")
                return Scalar("int", t.np) if t.kind == "bool" else t
            raise JitTypeError("operator ~")
        if isinstance(e, ast.BoolOp):
            types = [self.expr(v) for v in e.values]
            result: JitType = BOTTOM
            for t in types:
                result = unify(result, t, "an and/or expression")
            if not isinstance(result, (Scalar, Bottom)):
                raise JitTypeError("and/or of non-scalars")
            return result
        if isinstance(e, ast.Compare):
            return self.compare_type(e)
        if isinstance(e, ast.IfExp):
            self.condition(e.test)
            return unify(self.expr(e.body), self.expr(e.orelse), "a conditional expression")
        if isinstance(e, ast.Call):
            return self.call_type(e)
        if isinstance(e, ast.Subscript):
            return self.subscript_type(e)
        if isinstance(e, ast.Attribute):
            return self.attribute_type(e)
        if isinstance(e, ast.Tuple):
            items = [self.expr(x) for x in e.elts]
            if any(isinstance(x, Bottom) for x in items):
                return BOTTOM
            if not all(isinstance(x, Scalar) for x in items):
                raise JitTypeError("tuples hold scalars only")
            return Tuple(tuple(items))  # type: ignore[arg-type]
        raise JitTypeError(f"expression {type(e).__name__}")

    @staticmethod
    def _bottom_or_error(t: JitType, what: str) -> JitType:
        if isinstance(t, Bottom):
            return BOTTOM
        raise JitTypeError(f"{what} is {t}")

    def binop_type(self, op: ast.operator, a: JitType, b: JitType) -> JitType:
        if isinstance(a, Bottom) or isinstance(b, Bottom):
            return BOTTOM
        if not (isinstance(a, Scalar) and isinstance(b, Scalar)):
            raise JitTypeError(f"arithmetic on {a} and {b}")
        if (a.kind == "bool" and a.np is not False) or (b.kind == "bool" and b.np is not False):
            raise JitTypeError("arithmetic on numpy bool")
        return binop_result(_OP_SYMBOLS[type(op)], a, b)

    def compare_type(self, e: ast.Compare) -> JitType:
        operands = [self.expr(e.left)] + [self.expr(c) for c in e.comparators]
        for op in e.ops:
            if not isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)):
                raise JitTypeError(f"comparison {type(op).__name__}")
        if any(isinstance(t, Bottom) for t in operands):
            return BOTTOM
        if not all(isinstance(t, Scalar) for t in operands):
            raise JitTypeError("comparison of non-scalars")
        if any(t.kind == "complex" for t in operands) and not all(  # type: ignore[union-attr]
                isinstance(op, (ast.Eq, ast.NotEq)) for op in e.ops):
            raise JitTypeError("ordering comparison of complex numbers")
        npflag: bool | None = False
        for t in operands:
            assert isinstance(t, Scalar)
            if t.np is True:
                npflag = True
            elif t.np is None and npflag is False:
                npflag = None
        if len(operands) > 2 and npflag is not False:
            raise JitTypeError("chained comparison of numpy scalars")
        return Scalar("bool", npflag)

    def call_type(self, e: ast.Call) -> JitType:
        if e.keywords:
            raise JitTypeError("keyword arguments")
        func = e.func
        is_len = isinstance(func, ast.Name) and func.id == "len"
        args = [self.container(a) if is_len else self.expr(a) for a in e.args]
        if isinstance(func, ast.Attribute) and func.attr == "conjugate" and not args:
            base = self.expr(func.value)
            if isinstance(base, Scalar) and base.kind == "complex":
                return base
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            if self.globals.get(func.value.id) is np and func.value.id not in self.locals:
                return self.numpy_call(func.attr, args)
            if self.globals.get(func.value.id) is cmath and func.value.id not in self.locals:
                self.cmath_nodes.add(e)
                if any(isinstance(t, Bottom) for t in args):
                    return BOTTOM
                return cmath_calls.result_type(func.attr, args)
            if self.globals.get(func.value.id) is not math or func.attr not in MATH_FUNCS:
                raise JitTypeError(f"call to {func.value.id}.{func.attr}")
            if len(args) != MATH_FUNCS[func.attr]:
                raise JitTypeError(f"math.{func.attr} arity")
            self._scalar_args(args, f"math.{func.attr}")
            if func.attr in ("floor", "ceil", "trunc"):
                for t in args:
                    if isinstance(t, Scalar) and t.np is not False:
                        raise JitTypeError(f"math.{func.attr} of a numpy scalar")
                return INT
            return FLOAT
        if not isinstance(func, ast.Name) or func.id in self.locals:
            raise JitTypeError("call of a non-global")
        name = func.id
        target = self.globals.get(name, _BUILTINS.get(name))
        if target is not None and self.is_dispatcher(target):
            if any(isinstance(t, Bottom) for t in args):
                return BOTTOM
            sig = tuple(args)
            self.arrays_to_callees |= any(isinstance(t, Array) for t in sig)
            self.callees[e] = (target, sig)
            return self.resolve_callee(target, sig)
        if target is not _BUILTINS.get(name):
            raise JitTypeError(f"call to {name!r}")
        return self.builtin_type(name, args)

    def numpy_call(self, name: str, args: list[JitType]) -> JitType:
        """``np.int8(x)`` ... ``np.float32(x)``: a conversion to that NumPy scalar type."""
        dtype = NUMPY_SCALAR_NAMES.get(name)
        if dtype is None or len(args) != 1 or not isinstance(args[0], (Scalar, Bottom)):
            raise JitTypeError(f"call to np.{name} of {args}")
        return Scalar(DTYPES[dtype].kind, True, dtype)

    def _scalar_args(self, args: list[JitType], what: str, complex_ok: bool = False) -> None:
        for t in args:
            if not isinstance(t, (Scalar, Bottom)) or (isinstance(t, Scalar) and (
                    t.kind == "bool" and t.np or t.kind == "complex" and not complex_ok)):
                raise JitTypeError(f"{what} of {t}")

    def builtin_type(self, name: str, args: list[JitType]) -> JitType:
        lowered = simd_calls.result_type(name, args)  # sum/min/max of an int64/float64 array
        if lowered is not None:
            return lowered
        if name == "len":
            if len(args) != 1 or not isinstance(args[0], (Array, List)):
                raise JitTypeError("len() of a non-array")
            return INT
        self._scalar_args(args, f"{name}()", complex_ok=name in ("abs", "bool", "complex"))
        if any(isinstance(t, Bottom) for t in args):
            return BOTTOM
        scalars: list[Scalar] = args  # type: ignore[assignment]
        if name == "complex" and 1 <= len(args) <= 2:
            if len(args) == 2 and any(t.kind == "complex" for t in scalars):
                raise JitTypeError("complex() of a complex and another argument")
            return COMPLEX
        if name == "abs" and len(args) == 1 and scalars[0].kind == "complex":
            return complexes.real_type(scalars[0])
        if name == "abs" and len(args) == 1:
            t = scalars[0]
            return Scalar("int", t.np) if t.kind == "bool" else t
        if name in ("min", "max") and len(args) >= 2:
            result: JitType = BOTTOM
            for t in scalars:
                if t != scalars[0]:
                    raise JitTypeError(f"{name}() of mixed types {t} and {scalars[0]}")
                result = t
            return result
        if name == "divmod" and len(args) == 2:
            return Tuple((self.binop_type(ast.FloorDiv(), *args),  # type: ignore[arg-type]
                          self.binop_type(ast.Mod(), *args)))
        if name == "pow" and len(args) == 2:
            return self.binop_type(ast.Pow(), *args)
        if name == "round" and len(args) == 1 and (scalars[0].kind == "float"
                                                   or scalars[0].np is False):
            return INT
        if name == "float" and len(args) == 1:
            return FLOAT
        if name == "int" and len(args) == 1:
            return INT
        if name == "bool" and len(args) == 1:
            return BOOL
        raise JitTypeError(f"builtin {name}() with {len(args)} arguments")

    def subscript_array(self, e: ast.Subscript) -> Array:
        base = self.expr(e.value)
        if not isinstance(base, Array):
            raise JitTypeError(f"indexing {base}")
        idx = e.slice.elts if isinstance(e.slice, ast.Tuple) else [e.slice]
        if len(idx) != base.ndim:
            raise JitTypeError(f"{len(idx)} indices into a {base.ndim}-d array")
        for i in idx:
            t = self.expr(i)
            if not (isinstance(t, Bottom) or isinstance(t, Scalar) and t.kind == "int"):
                raise JitTypeError(f"array index of type {t}")
        return base

    def list_display(self, e: ast.expr) -> JitType:
        """The type of ``[x, ...]`` or ``[x, ...] * n`` assigned to a local (``lists``)."""
        self.exprs[e] = t = lists.display_type(*lists.display_items(
            e, [self.expr(x) for x in lists.display_nodes(e)]))
        return t

    def container(self, e: ast.expr) -> JitType:
        """The type of what is subscripted, iterated or ``len``-ed: a local list's name
        is allowed there (and only there: see ``lists``)."""
        if isinstance(e, ast.Name) and isinstance(self.locals.get(e.id), List):
            self.exprs[e] = self.locals[e.id]
            return self.locals[e.id]
        return self.expr(e)

    def list_subscript(self, e: ast.Subscript) -> List:
        """``xs[i]`` on a local list: its type (the index must be an int)."""
        base = self.container(e.value)
        assert isinstance(base, List)
        t = self.expr(e.slice)
        if not (isinstance(t, Bottom) or isinstance(t, Scalar) and t.kind in ("int", "bool")):
            raise JitTypeError(f"list index of type {t}")
        return base

    def subscript_type(self, e: ast.Subscript) -> JitType:
        if isinstance(self.container(e.value), List):
            return self.list_subscript(e).item
        base = self.expr(e.value)
        if isinstance(base, Tuple):
            if not (isinstance(e.slice, ast.Constant) and type(e.slice.value) is int
                    and -len(base.items) <= e.slice.value < len(base.items)):
                raise JitTypeError("tuple index must be a constant in range")
            return base.items[e.slice.value]
        return self.subscript_array(e).element

    def attribute_type(self, e: ast.Attribute) -> JitType:
        if isinstance(e.value, ast.Name) and self.globals.get(e.value.id) is math \
                and e.attr in MATH_CONSTS and e.value.id not in self.locals:
            return FLOAT
        base = self.expr(e.value)
        if isinstance(base, Array) and e.attr == "shape":
            return Tuple((INT,) * base.ndim)
        if isinstance(base, Scalar) and base.kind == "complex" and e.attr in ("real", "imag"):
            return complexes.real_type(base)
        if isinstance(base, Bottom):
            return BOTTOM
        raise JitTypeError(f"attribute .{e.attr}")


_BUILTINS: dict[str, Any] = {"len": len, "abs": abs, "min": min, "max": max, "sum": sum,
                             "float": float, "int": int, "bool": bool, "complex": complex}


def likely_deopts(node: ast.AST, exprs: dict[ast.AST, JitType],
                  callees: dict[ast.Call, Any]) -> bool:
    """Whether some operation in ``node`` keeps a deopt check LLVM is unlikely to remove:
    a division or power, an int operation on two variables (overflow), a math function
    (domain), an int/float comparison, a call to a compiled function.  Only a heuristic
    for ``exact_index_errors``: a wrong guess costs speed, never correctness."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.BinOp) and _likely_binop_deopt(sub.op, sub.left, sub.right,
                                                             exprs.get(sub)):
            return True
        if isinstance(sub, ast.AugAssign) and _likely_binop_deopt(
                sub.op, sub.target, sub.value, exprs.get(sub.target)):
            return True
        if isinstance(sub, ast.Call) and (sub in callees or _likely_call_deopt(sub)):
            return True
        if isinstance(sub, ast.UnaryOp) and isinstance(sub.op, ast.USub) \
                and _is_int(exprs.get(sub)) and not isinstance(sub.operand, ast.Constant):
            return True
        if isinstance(sub, ast.Compare):
            kinds = {getattr(exprs.get(x), "kind", None) for x in [sub.left, *sub.comparators]}
            if {"int", "float"} <= kinds:
                return True
    return False


def _is_int(t: JitType | None) -> bool:
    return isinstance(t, Scalar) and t.kind in ("int", "bool")


def _likely_binop_deopt(op: ast.operator, left: ast.expr, right: ast.expr,
                        result: JitType | None) -> bool:
    if isinstance(op, (ast.Div, ast.FloorDiv, ast.Mod)):
        return not (isinstance(right, ast.Constant) and right.value not in (0, -1))
    if isinstance(op, ast.Pow):
        return True
    return _is_int(result) and not (isinstance(left, ast.Constant)
                                    or isinstance(right, ast.Constant))


def _likely_call_deopt(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute):  # math.<name>: domain and range checks
        return func.attr not in ("fabs", "copysign")
    return isinstance(func, ast.Name) and func.id in ("int", "abs", "divmod", "pow", "round")


def _falls_off_end(body: list[ast.stmt]) -> bool:
    """Whether control can reach the end of ``body`` (conservative, structural)."""
    if not body:
        return True
    last = body[-1]
    if isinstance(last, ast.Return):
        return False
    if isinstance(last, ast.If):
        return _falls_off_end(last.body) or _falls_off_end(last.orelse)
    if isinstance(last, ast.While) and isinstance(last.test, ast.Constant) and last.test.value:
        return _breaks_out(last.body)
    return True


def _breaks_out(body: list[ast.stmt]) -> bool:
    """Whether ``body`` holds a ``break`` of its own loop (nested loops' breaks stay inside)."""
    for stmt in body:
        if isinstance(stmt, ast.Break):
            return True
        if isinstance(stmt, ast.If) and (_breaks_out(stmt.body) or _breaks_out(stmt.orelse)):
            return True
    return False
