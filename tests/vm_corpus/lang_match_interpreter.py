"""match: a bytecode-free stack machine whose instruction decoding is done entirely with match/case."""

from dataclasses import dataclass


@dataclass
class Push:
    value: int


@dataclass
class Op:
    name: str


@dataclass
class Jump:
    target: int
    when: str = "always"


@dataclass
class Call:
    name: str
    arity: int


def run(program, builtins):
    stack, pc, trace = [], 0, []
    while pc < len(program):
        instruction = program[pc]
        pc += 1
        match instruction:
            case Push(value=int(v)):
                stack.append(v)
            case Op("add" | "mul" | "sub" as name):
                b, a = stack.pop(), stack.pop()
                stack.append({"add": a + b, "mul": a * b, "sub": a - b}[name])
            case Op("dup"):
                stack.append(stack[-1])
            case Op("print"):
                trace.append(stack.pop())
            case Jump(target, "always"):
                pc = target
            case Jump(target, "zero") if stack.pop() == 0:
                pc = target
            case Jump(_, "zero"):
                pass
            case Call(name, arity) if name in builtins:
                args = [stack.pop() for _ in range(arity)][::-1]
                stack.append(builtins[name](*args))
            case Call(name, _):
                raise NameError(f"unknown builtin {name}")
            case Op(name):
                raise ValueError(f"unknown op {name}")
            case other:
                raise TypeError(f"not an instruction: {other!r}")
    return trace, stack


def assemble(text):
    program = []
    for line in text.strip().splitlines():
        match line.split():
            case ["push", number]:
                program.append(Push(int(number)))
            case ["jmp", target]:
                program.append(Jump(int(target)))
            case ["jz", target]:
                program.append(Jump(int(target), "zero"))
            case ["call", name, arity]:
                program.append(Call(name, int(arity)))
            case [name]:
                program.append(Op(name))
            case []:
                continue
            case words:
                raise SyntaxError(f"bad line {' '.join(words)!r}")
    return program


COUNTDOWN = """
push 5
dup
print
push 1
sub
dup
jz 8
jmp 1
push 7
push 3
call max 2
print
"""
print(run(assemble(COUNTDOWN), {"max": max}))
print(run([Push(2), Push(3), Op("mul"), Call("abs", 1), Op("print")], {"abs": abs}))
for bad in ([Op("nope")], [Call("missing", 0)], ["raw string"]):
    try:
        run(bad, {})
    except (NameError, ValueError, TypeError) as error:
        print(type(error).__name__, error)
try:
    assemble("push 1 2")
except SyntaxError as error:
    print("SyntaxError", error)
run(assemble("push 1\nadd"), {})
