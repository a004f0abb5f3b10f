"""match over Python's own ast nodes: constant folding and a tiny linter using class patterns with __match_args__."""

import ast

SOURCE = '''
x = 2 * 3 + 4
y = x * 1 + 0
if x == None:
    print("none")
name = "a" + "b"
z = (lambda q: q)(5)
w = -(-7)
assert (x, "message")
for i in range(len(items)):
    print(items[i])
'''


def fold(node):
    match node:
        case ast.BinOp(ast.Constant(int(a)), ast.Add(), ast.Constant(int(b))):
            return ast.Constant(a + b)
        case ast.BinOp(ast.Constant(int(a)), ast.Mult(), ast.Constant(int(b))):
            return ast.Constant(a * b)
        case ast.BinOp(ast.Constant(str(a)), ast.Add(), ast.Constant(str(b))):
            return ast.Constant(a + b)
        case ast.BinOp(left, ast.Mult(), ast.Constant(1)) | ast.BinOp(left, ast.Add(), ast.Constant(0)):
            return left
        case ast.UnaryOp(ast.USub(), ast.UnaryOp(ast.USub(), operand)):
            return operand
        case _:
            return node


class Folder(ast.NodeTransformer):
    def generic_visit(self, node):
        super().generic_visit(node)
        return fold(node)


def lint(tree):
    problems = []
    for node in ast.walk(tree):
        match node:
            case ast.Compare(ops=[ast.Eq() | ast.NotEq()], comparators=[ast.Constant(None)]):
                problems.append((node.lineno, "compare to None with 'is'"))
            case ast.Assert(test=ast.Tuple(elts=[_, _, *_])):
                problems.append((node.lineno, "assert on a tuple is always true"))
            case ast.Call(func=ast.Lambda()):
                problems.append((node.lineno, "immediately called lambda"))
            case ast.For(iter=ast.Call(func=ast.Name("range"), args=[ast.Call(func=ast.Name("len"))])):
                problems.append((node.lineno, "use enumerate() instead of range(len())"))
    return sorted(problems)


tree = ast.parse(SOURCE)
for line, message in lint(tree):
    print(f"line {line}: {message}")
folded = Folder().visit(ast.parse(SOURCE))
for statement in folded.body[:5]:
    print(ast.unparse(statement).splitlines()[0])
match ast.parse("a, *b = c").body[0]:
    case ast.Assign(targets=[ast.Tuple(elts=[ast.Name(first), ast.Starred(ast.Name(rest))])], value=ast.Name(src)):
        print("unpack", first, rest, "from", src)
match ast.parse("def f(a, b=1): return a").body[0]:
    case ast.FunctionDef(name=fname, args=ast.arguments(args=[*params], defaults=[ast.Constant(d)])):
        print(fname, [p.arg for p in params], d)
print(ast.Constant.__match_args__, ast.BinOp.__match_args__)
