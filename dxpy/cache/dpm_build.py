"""``dxpy build``: compile a module tree to DPM files.

For each ``.py`` file: the source is compiled by CPython (the code section),
and its ``ast`` gives the import table (every ``import``/``from ... import``
anywhere in the module, with FROM / STAR / RELATIVE flags), the exports (the
names bound at module level, through ``if``/``try``/``with``/loop bodies),
and the annotations of module-level functions and of methods of
module-level classes.  After a whole tree is built, each ``from m import
name`` whose ``m`` was built too is checked against ``m``'s export table
(one perfect-hash probe): a name that is neither exported nor a submodule
is reported, unless ``m`` defines a module ``__getattr__`` or star-imports
(its names are then not known statically).
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field

from . import dpm

@dataclass
class BuildReport:
    """What ``build_tree`` did: files written, and unresolved imports (file:line: text)."""

    written: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def module_name(root: str, path: str) -> str:
    """``pkg/sub/mod.py`` under ``root``'s parent -> ``pkg.sub.mod`` (``__init__`` dropped)."""
    rel = os.path.relpath(path, os.path.dirname(os.path.abspath(root)))
    parts = rel[:-3].split(os.sep)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def compile_module(path: str, name: str) -> tuple[dpm.DpmModule, list[tuple[int, dpm.Import]]]:
    """The DPM module for one source file, and its imports with line numbers."""
    import marshal

    with open(path, "rb") as f:
        source = f.read()
    st = os.stat(path)
    code = compile(source, path, "exec", dont_inherit=True)
    tree = ast.parse(source, path)
    imports = _imports(tree)
    annotations, functions = _annotations(tree)
    exports = _exports(tree, functions)
    module = dpm.DpmModule(
        name=name, source_path=path, source_size=st.st_size,
        source_mtime_ns=_quick_checkable_mtime(st),
        source_hash=dpm.source_hash(source), engine=dpm.ENGINE, code=marshal.dumps(code),
        package=os.path.basename(path) == "__init__.py",
        imports=[imp for _, imp in imports], exports=exports, annotations=annotations)
    return module, imports


def _quick_checkable_mtime(st: os.stat_result) -> int:
    """The source mtime the loader's quick check compares, or 0 (always hash the
    source) when it was modified so recently that another write could share it."""
    from .store import RACY_STAMP, stamp_of, trustworthy

    return 0 if trustworthy(stamp_of(st)) == RACY_STAMP else st.st_mtime_ns


def _imports(tree: ast.Module) -> list[tuple[int, dpm.Import]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, dpm.Import(alias.name)) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = dpm.IMPORT_FROM | (dpm.IMPORT_RELATIVE if node.level else 0)
            for alias in node.names:
                star = alias.name == "*"
                found.append((node.lineno, dpm.Import(
                    node.module or "", "" if star else alias.name, node.level,
                    base | (dpm.IMPORT_STAR if star else 0))))
    return found


def _annotations(tree: ast.Module) -> tuple[list[dpm.Annotation], dict[str, int]]:
    """Annotations of module-level functions and of methods of module-level
    classes; and top-level function name -> its annotation index."""
    out: list[dpm.Annotation] = []
    top: dict[str, int] = {}
    for node in _module_level(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            top[node.name] = len(out)
            out.append(_annotation(node.name, node))
        elif isinstance(node, ast.ClassDef):
            out += [_annotation(f"{node.name}.{item.name}", item) for item in node.body
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return out, top


def _annotation(qualname: str, node: ast.FunctionDef | ast.AsyncFunctionDef) -> dpm.Annotation:
    args = node.args
    params = [*args.posonlyargs, *args.args, *([args.vararg] if args.vararg else []),
              *args.kwonlyargs, *([args.kwarg] if args.kwarg else [])]
    return dpm.Annotation(qualname, tuple((p.arg, ast.unparse(p.annotation) if p.annotation
                                           else "") for p in params),
                          ast.unparse(node.returns) if node.returns else "")


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements that run at module level: the body, and the bodies of its
    compound statements that do not open a scope (if/try/with/for/while/match)."""
    out = []
    for node in body:
        out.append(node)
        for name in ("body", "orelse", "finalbody"):
            inner = getattr(node, name, None)
            if isinstance(inner, list) and not isinstance(
                    node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out += _module_level(inner)
        for handler in getattr(node, "handlers", []):
            out += _module_level(handler.body)
        for case in getattr(node, "cases", []):
            out += _module_level(case.body)
    return out


def _exports(tree: ast.Module, functions: dict[str, int]) -> list[dpm.Export]:
    bound: dict[str, int] = {}
    for node in _module_level(tree.body):
        for name, kind in _bindings(node):
            bound.setdefault(name, kind)
    in_all = _dunder_all(tree)
    return [dpm.Export(name, kind, dpm.EXPORT_IN_ALL if name in in_all else 0,
                       functions.get(name, dpm.NO_ANNOTATION) if kind == dpm.KIND_FUNCTION
                       else dpm.NO_ANNOTATION)
            for name, kind in bound.items()]


def _bindings(node: ast.stmt) -> list[tuple[str, int]]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return [(node.name, dpm.KIND_FUNCTION)]
    if isinstance(node, ast.ClassDef):
        return [(node.name, dpm.KIND_CLASS)]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [((alias.asname or alias.name).split(".")[0], dpm.KIND_IMPORT)
                for alias in node.names if alias.name != "*"]
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and (
            not isinstance(node, ast.AnnAssign) or node.value is not None):
        targets = [node.target]
    elif isinstance(node, (ast.For, ast.AsyncFor)):
        targets = [node.target]
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        targets = [item.optional_vars for item in node.items if item.optional_vars]
    return [(n.id, dpm.KIND_VARIABLE) for t in targets for n in ast.walk(t)
            if isinstance(n, ast.Name)]


def _dunder_all(tree: ast.Module) -> set[str]:
    for node in tree.body:
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__"
                                                 for t in node.targets)
                and isinstance(node.value, (ast.List, ast.Tuple))):
            return {e.value for e in node.value.elts
                    if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return set()


def dpm_path(source: str, root: str, output: str | None) -> str:
    """Where the DPM for ``source`` goes: beside it, or mirrored under ``output``."""
    stem = os.path.splitext(source)[0] + ".dpm"
    if output is None:
        return stem
    return os.path.join(output, os.path.relpath(stem, os.path.dirname(os.path.abspath(root))))


def build_tree(root: str, output: str | None = None) -> BuildReport:
    """Compile every ``.py`` under ``root`` (a package directory or one file) to DPM;
    writes are atomic (temp file + rename).  SyntaxError/OSError propagate, naming the file."""
    root = os.path.abspath(root)
    sources = [root] if os.path.isfile(root) else sorted(
        os.path.join(d, f) for d, dirs, files in os.walk(root)
        for f in files if f.endswith(".py") and "__pycache__" not in d)
    report = BuildReport()
    built: dict[str, dpm.DpmFile] = {}
    pending: list[tuple[str, str, list[tuple[int, dpm.Import]]]] = []
    for source in sources:
        name = (module_name(root, source) if os.path.isdir(root)
                else os.path.basename(source)[:-3])
        module, imports = compile_module(source, name)
        data = dpm.to_bytes(module)
        target = dpm_path(source, root, output)
        write_atomic(target, data)
        report.written.append(target)
        built[name] = dpm.read_bytes(data, target)
        pending.append((source, name, imports))
    for source, name, imports in pending:
        report.problems += _unresolved(source, name, imports, built)
    return report


def _unresolved(source: str, name: str, imports: list[tuple[int, dpm.Import]],
                built: dict[str, dpm.DpmFile]) -> list[str]:
    problems = []
    package = name if os.path.basename(source) == "__init__.py" else name.rpartition(".")[0]
    for line, imp in imports:
        if not imp.flags & dpm.IMPORT_FROM or imp.flags & dpm.IMPORT_STAR:
            continue
        target = _absolute(imp, package)
        module = built.get(target)
        if module is None or f"{target}.{imp.symbol}" in built:
            continue
        if module.lookup(imp.symbol) is None and not _dynamic(module):
            problems.append(f"{source}:{line}: {target} has no top-level name {imp.symbol!r}")
    return problems


def _absolute(imp: dpm.Import, package: str) -> str:
    if not imp.level:
        return imp.module
    base = package.split(".") if package else []
    base = base[:len(base) - (imp.level - 1)] if imp.level > 1 else base
    return ".".join([*base, imp.module] if imp.module else base)


def _dynamic(module: dpm.DpmFile) -> bool:
    """A module whose names are not all static: ``__getattr__`` or a star import."""
    return (module.lookup("__getattr__") is not None
            or any(i.flags & dpm.IMPORT_STAR for i in module.imports()))


def write_atomic(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    temp = f"{path}.{os.getpid()}.tmp"
    with open(temp, "wb") as f:
        f.write(data)
    os.replace(temp, path)
