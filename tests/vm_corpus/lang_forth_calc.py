"""A Forth-like RPN calculator with user-defined words, conditionals and a dictionary of builtins."""


class ForthError(Exception):
    pass


class Forth:
    def __init__(self):
        self.stack = []
        self.words = {}
        self.output = []
        self.builtins = {
            "+": lambda: self.binary(lambda a, b: a + b), "-": lambda: self.binary(lambda a, b: a - b),
            "*": lambda: self.binary(lambda a, b: a * b), "/": lambda: self.binary(self.divide),
            "dup": lambda: self.push(self.peek()), "drop": lambda: self.pop(),
            "swap": self.swap, "over": lambda: self.push(self.stack[-2] if len(self.stack) > 1 else self.underflow()),
            ".": lambda: self.output.append(str(self.pop())), "=": lambda: self.binary(lambda a, b: -int(a == b)),
            "<": lambda: self.binary(lambda a, b: -int(a < b)), "emit": lambda: self.output.append(chr(self.pop())),
        }

    def underflow(self):
        raise ForthError("stack underflow")

    def push(self, value):
        self.stack.append(value)

    def pop(self):
        if not self.stack:
            self.underflow()
        return self.stack.pop()

    def peek(self):
        if not self.stack:
            self.underflow()
        return self.stack[-1]

    def swap(self):
        b, a = self.pop(), self.pop()
        self.stack += [b, a]

    @staticmethod
    def divide(a, b):
        if b == 0:
            raise ForthError("division by zero")
        return a // b

    def binary(self, fn):
        b, a = self.pop(), self.pop()
        self.push(fn(a, b))

    def run(self, text):
        self.execute(text.lower().split())
        return self

    def execute(self, tokens):
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token == ":":
                end = tokens.index(";", i)
                name = tokens[i + 1]
                if name.lstrip("-").isdigit():
                    raise ForthError("cannot redefine numbers")
                self.words[name] = [w for t in tokens[i + 2:end] for w in self.words.get(t, [t])]
                i = end + 1
                continue
            if token == "if":
                depth, j, else_at = 0, i + 1, None
                while depth or tokens[j] != "then":
                    depth += {"if": 1, "then": -1}.get(tokens[j], 0)
                    if tokens[j] == "else" and depth == 0:
                        else_at = j
                    j += 1
                body = tokens[i + 1:else_at or j] if self.pop() else (tokens[else_at + 1:j] if else_at else [])
                self.execute(body)
                i = j + 1
                continue
            if token in self.words:
                self.execute(self.words[token])
            elif token in self.builtins:
                self.builtins[token]()
            else:
                try:
                    self.push(int(token))
                except ValueError:
                    raise ForthError(f"undefined word {token!r}") from None
            i += 1


f = Forth().run("1 2 3 + * .  10 3 / .  : square dup * ;  7 square .  : cube dup square * ; 3 cube .")
print(" ".join(f.output), f.stack)
f = Forth().run(": abs dup 0 < if -1 * then ; -5 abs . 4 abs . : sign dup 0 < if drop -1 else 0 = if 0 else 1 then then ;")
f.run("-9 sign . 0 sign . 12 sign .")
print(" ".join(f.output))
f = Forth().run(": foo 5 ; : bar foo ; : foo 6 ; bar foo . . 72 emit 105 emit")
print(f.output)
for program in ["1 +", "4 0 /", "1 2 frob", ": 5 6 ;", "drop"]:
    try:
        Forth().run(program)
    except ForthError as error:
        print(f"{program!r}: {error}")
Forth().run("1 2 3").run(". . . .")
