"""An assembler and stack VM written in Python: labels, calls, a loop computing primes, and a fault at the end."""

OPCODES = {"push": 1, "pop": 0, "add": 0, "sub": 0, "mul": 0, "mod": 0, "dup": 0, "swap": 0, "over": 0,
           "jmp": 1, "jz": 1, "call": 1, "ret": 0, "print": 0, "halt": 0, "lt": 0, "load": 1, "store": 1}


class VMError(Exception):
    pass


def assemble(source):
    labels, program = {}, []
    lines = [line.split("#")[0].strip() for line in source.strip().splitlines()]
    for line in lines:
        if line.endswith(":"):
            labels[line[:-1]] = len(program)
        elif line:
            parts = line.split()
            if parts[0] not in OPCODES:
                raise VMError(f"unknown instruction {parts[0]!r}")
            program.append(parts)
    code = []
    for parts in program:
        op, args = parts[0], parts[1:]
        if len(args) != OPCODES[op]:
            raise VMError(f"{op} takes {OPCODES[op]} operand(s)")
        arg = None
        if args:
            arg = labels[args[0]] if args[0] in labels else int(args[0])
        code.append((op, arg))
    return code


def run(code, limit=20000):
    stack, calls, memory, out = [], [], [0] * 8, []
    pc = steps = 0
    while True:
        steps += 1
        if steps > limit:
            raise VMError("step limit exceeded")
        op, arg = code[pc]
        pc += 1
        if op == "push":
            stack.append(arg)
        elif op == "pop":
            stack.pop()
        elif op in ("add", "sub", "mul", "mod", "lt"):
            b, a = stack.pop(), stack.pop()
            stack.append({"add": a + b, "sub": a - b, "mul": a * b, "lt": int(a < b),
                          "mod": a % b if b else None}[op])
            if stack[-1] is None:
                raise VMError(f"division by zero at {pc - 1}")
        elif op == "dup":
            stack.append(stack[-1])
        elif op == "over":
            stack.append(stack[-2])
        elif op == "swap":
            stack[-1], stack[-2] = stack[-2], stack[-1]
        elif op == "jmp":
            pc = arg
        elif op == "jz":
            if stack.pop() == 0:
                pc = arg
        elif op == "call":
            calls.append(pc)
            pc = arg
        elif op == "ret":
            pc = calls.pop()
        elif op == "load":
            stack.append(memory[arg])
        elif op == "store":
            memory[arg] = stack.pop()
        elif op == "print":
            out.append(stack.pop())
        elif op == "halt":
            return out, steps


PRIMES = """
    push 2
    store 0          # n = 2
loop:
    load 0
    push 30
    lt
    jz done
    call is_prime
    jz next
    load 0
    print
next:
    load 0
    push 1
    add
    store 0
    jmp loop
done:
    halt
is_prime:            # leaves 1 if memory[0] is prime
    push 2
    store 1
check:
    load 1
    dup
    mul
    load 0
    swap
    lt               # n < d*d ?
    jz test
    push 1
    ret
test:
    load 0
    load 1
    mod
    jz composite
    load 1
    push 1
    add
    store 1
    jmp check
composite:
    push 0
    ret
"""
output, steps = run(assemble(PRIMES))
print("primes:", output, "steps:", steps)
for bad in ["bogus 1", "push", "push 1\npush 0\nmod\nhalt"]:
    try:
        print(run(assemble(bad)))
    except VMError as error:
        print("VMError:", error)
run(assemble("spin:\njmp spin"), limit=500)
