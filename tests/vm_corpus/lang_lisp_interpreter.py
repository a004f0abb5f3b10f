"""A small Lisp: reader, environments, special forms, lambdas with closures, tail loop and error reporting."""

import math
import operator


class LispError(Exception):
    pass


def tokenize(text):
    return text.replace("(", " ( ").replace(")", " ) ").replace("'", " ' ").split()


def read(tokens):
    if not tokens:
        raise LispError("unexpected EOF")
    token = tokens.pop(0)
    if token == "(":
        items = []
        while tokens and tokens[0] != ")":
            items.append(read(tokens))
        if not tokens:
            raise LispError("missing )")
        tokens.pop(0)
        return items
    if token == ")":
        raise LispError("unexpected )")
    if token == "'":
        return ["quote", read(tokens)]
    for kind in (int, float):
        try:
            return kind(token)
        except ValueError:
            pass
    return token


class Env(dict):
    def __init__(self, names=(), values=(), outer=None):
        super().__init__(zip(names, values))
        self.outer = outer

    def find(self, name):
        if name in self:
            return self
        if self.outer is None:
            raise LispError(f"unbound symbol {name}")
        return self.outer.find(name)


class Procedure:
    def __init__(self, params, body, env):
        self.params, self.body, self.env = params, body, env

    def __call__(self, *args):
        return evaluate(self.body, Env(self.params, args, self.env))


def standard_env():
    env = Env()
    env.update({"+": lambda *a: sum(a), "-": operator.sub, "*": lambda *a: math.prod(a), "/": operator.truediv,
                "<": operator.lt, ">": operator.gt, "=": operator.eq, "<=": operator.le, "abs": abs,
                "car": lambda x: x[0], "cdr": lambda x: x[1:], "cons": lambda x, y: [x] + y, "list": lambda *a: list(a),
                "null?": lambda x: x == [], "length": len, "apply": lambda f, args: f(*args),
                "map": lambda f, xs: [f(x) for x in xs], "max": max, "min": min, "not": operator.not_})
    return env


def evaluate(x, env):
    while True:
        if isinstance(x, str):
            return env.find(x)[x]
        if not isinstance(x, list):
            return x
        head, *args = x
        if head == "quote":
            return args[0]
        if head == "if":
            test, then, otherwise = args
            x = then if evaluate(test, env) else otherwise
            continue
        if head == "define":
            env[args[0]] = evaluate(args[1], env)
            return None
        if head == "set!":
            env.find(args[0])[args[0]] = evaluate(args[1], env)
            return None
        if head == "lambda":
            return Procedure(args[0], args[1], env)
        if head == "begin":
            for expression in args[:-1]:
                evaluate(expression, env)
            x = args[-1]
            continue
        procedure = evaluate(head, env)
        values = [evaluate(a, env) for a in args]
        if isinstance(procedure, Procedure):
            x, env = procedure.body, Env(procedure.params, values, procedure.env)
            continue
        if not callable(procedure):
            raise LispError(f"not a procedure: {procedure!r}")
        return procedure(*values)


def to_string(value):
    if isinstance(value, list):
        return "(" + " ".join(map(to_string, value)) + ")"
    if value is True:
        return "#t"
    if value is False:
        return "#f"
    return str(value)


PROGRAM = """
(define fact (lambda (n) (if (<= n 1) 1 (* n (fact (- n 1))))))
(fact 20)
(define count-to (lambda (n acc) (if (= n 0) acc (count-to (- n 1) (+ acc 1)))))
(count-to 120 0)
(define make-account (lambda (balance) (lambda (amount) (begin (set! balance (+ balance amount)) balance))))
(define acc (make-account 100))
(acc 10)
(acc -30)
(map (lambda (x) (* x x)) '(1 2 3 4))
(cons 0 (cdr '(9 1 2)))
(apply max (list 3 9 2))
(if (null? '()) 'empty 'full)
(length (list 1 2 (list 3 4)))
(/ 1 4)
(undefined-thing 1)
"""
env = standard_env()
for line in PROGRAM.strip().splitlines():
    try:
        result = evaluate(read(tokenize(line)), env)
    except LispError as error:
        print("error:", error)
        continue
    if result is not None:
        print(to_string(result))
for bad in ["(+ 1 2", ")", "(1 2)"]:
    try:
        evaluate(read(tokenize(bad)), env)
    except LispError as error:
        print("error:", error)
evaluate(read(tokenize("(car '())")), env)
