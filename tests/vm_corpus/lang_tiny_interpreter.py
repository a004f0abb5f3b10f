"""A tokenizer, Pratt parser and tree-walking interpreter for a tiny language with functions and closures."""

import re

TOKEN = re.compile(r"\s*(?:(?P<num>\d+)|(?P<name>[A-Za-z_]\w*)|(?P<op>==|!=|<=|>=|[-+*/%<>=(){},;]))")
KEYWORDS = {"let", "fn", "if", "else", "while", "return", "print"}

class Token:
    def __init__(self, kind, text):
        self.kind, self.text = kind, text

def tokenize(source):
    position, tokens = 0, []
    source = source.rstrip()
    while position < len(source):
        match = TOKEN.match(source, position)
        if match is None:
            raise SyntaxError(f"bad character {source[position]!r} at {position}")
        kind = match.lastgroup
        text = match.group(kind)
        tokens.append(Token("kw" if text in KEYWORDS else kind, text))
        position = match.end()
    tokens.append(Token("eof", ""))
    return tokens

BINDING = {"==": 1, "!=": 1, "<": 2, ">": 2, "<=": 2, ">=": 2, "+": 3, "-": 3, "*": 4, "/": 4, "%": 4}

class Parser:
    def __init__(self, tokens):
        self.tokens, self.index = tokens, 0
    def peek(self):
        return self.tokens[self.index]
    def take(self, text=None):
        token = self.tokens[self.index]
        if text is not None and token.text != text:
            raise SyntaxError(f"expected {text!r}, got {token.text!r}")
        self.index += 1
        return token
    def program(self):
        return self.block(braces=False)
    def block(self, braces=True):
        if braces:
            self.take("{")
        statements = []
        while self.peek().text != "}" and self.peek().kind != "eof":
            statements.append(self.statement())
        if braces:
            self.take("}")
        return ("block", statements)
    def statement(self):
        token = self.peek()
        if token.text == "let" or (token.kind == "name" and self.tokens[self.index + 1].text == "="):
            kind = "let" if token.text == "let" else "set"
            if kind == "let":
                self.take()
            name = self.take().text
            self.take("=")
            value = self.expression(0)
            self.take(";")
            return (kind, name, value)
        if token.text == "if":
            self.take()
            test, body = self.expression(0), self.block()
            orelse = ("block", [])
            if self.peek().text == "else":
                self.take()
                orelse = self.block()
            return ("if", test, body, orelse)
        if token.text == "while":
            self.take()
            return ("while", self.expression(0), self.block())
        if token.text in ("return", "print"):
            self.take()
        value = self.expression(0)
        self.take(";")
        return (token.text if token.text in ("return", "print") else "expr", value)
    def expression(self, floor):
        left = self.prefix()
        while self.peek().text in BINDING and BINDING[self.peek().text] > floor:
            op = self.take().text
            left = ("bin", op, left, self.expression(BINDING[op]))
        return left
    def prefix(self):
        token = self.take()
        if token.kind == "num":
            node = ("num", int(token.text))
        elif token.text == "-":
            node = ("neg", self.prefix())
        elif token.text == "(":
            node = self.expression(0)
            self.take(")")
        elif token.text == "fn":
            self.take("(")
            params = []
            while self.peek().text != ")":
                params.append(self.take().text)
                if self.peek().text == ",":
                    self.take()
            self.take(")")
            node = ("fn", params, self.block())
        elif token.kind == "name":
            node = ("var", token.text)
        else:
            raise SyntaxError(f"unexpected {token.text!r}")
        while self.peek().text == "(":
            self.take()
            args = []
            while self.peek().text != ")":
                args.append(self.expression(0))
                if self.peek().text == ",":
                    self.take()
            self.take(")")
            node = ("call", node, args)
        return node

class ReturnSignal(Exception):
    def __init__(self, value):
        self.value = value

class Env(dict):
    def __init__(self, parent=None):
        super().__init__()
        self.parent = parent
    def find(self, name):
        env = self
        while env is not None:
            if name in env:
                return env
            env = env.parent
        raise NameError(f"undefined variable {name}")

OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a // b,
       "%": lambda a, b: a % b, "<": lambda a, b: int(a < b), ">": lambda a, b: int(a > b),
       "<=": lambda a, b: int(a <= b), ">=": lambda a, b: int(a >= b), "==": lambda a, b: int(a == b),
       "!=": lambda a, b: int(a != b)}

def run(node, env, out):
    kind = node[0]
    if kind == "block":
        for statement in node[1]:
            run(statement, env, out)
    elif kind == "let":
        env[node[1]] = evaluate(node[2], env, out)
    elif kind == "set":
        env.find(node[1])[node[1]] = evaluate(node[2], env, out)
    elif kind == "if":
        run(node[2] if evaluate(node[1], env, out) else node[3], Env(env), out)
    elif kind == "while":
        while evaluate(node[1], env, out):
            run(node[2], Env(env), out)
    elif kind == "return":
        raise ReturnSignal(evaluate(node[1], env, out))
    elif kind == "print":
        out.append(str(evaluate(node[1], env, out)))
    else:
        evaluate(node[1], env, out)

def evaluate(node, env, out):
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "var":
        return env.find(node[1])[node[1]]
    if kind == "neg":
        return -evaluate(node[1], env, out)
    if kind == "bin":
        return OPS[node[1]](evaluate(node[2], env, out), evaluate(node[3], env, out))
    if kind == "fn":
        return ("closure", node[1], node[2], env)
    _, params, body, closure = evaluate(node[1], env, out)
    frame = Env(closure)
    frame.update(zip(params, (evaluate(a, env, out) for a in node[2])))
    try:
        run(body, frame, out)
    except ReturnSignal as signal:
        return signal.value
    return 0

SOURCE = """
let fib = fn(n) { if n < 2 { return n; } return fib(n - 1) + fib(n - 2); };
let counter = fn() { let c = 0; return fn() { c = c + 1; return c; }; };
let tick = counter();
tick(); tick();
print tick();
let i = 0; let total = 0; while i < 10 { total = total + i * i; i = i + 1; } print total; print fib(10);
let compose = fn(f, g) { return fn(x) { return f(g(x)); }; };
print compose(fn(x) { return x * 2; }, fn(x) { return x + 3; })(4);
print -7 % 3 == 2;
print undefined_name;
"""

tokens = tokenize(SOURCE)
print(len(tokens), [f"{t.kind}:{t.text}" for t in tokens[:6]])
tree, output = Parser(tokens).program(), []
try:
    run(tree, Env(), output)
finally:
    print("\n".join(output))
