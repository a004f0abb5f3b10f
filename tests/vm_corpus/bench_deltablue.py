"""DeltaBlue-style incremental constraint solver: strengths, walkabout strengths, plan extraction.

Variables are linked by constraints (equality, scale, stay, edit) that
can each be satisfied in one direction; adding a constraint picks a
method, propagates walkabout strengths and may retract weaker
constraints.  The chain and projection tests of the benchmark drive it.
"""

STRENGTHS = ["required", "strong_preferred", "preferred", "strong_default", "normal", "weak_default", "weakest"]
REQUIRED, STRONG_PREFERRED, PREFERRED, STRONG_DEFAULT, NORMAL, WEAK_DEFAULT, WEAKEST = range(7)

def stronger(a, b):
    return a < b

class Variable:
    def __init__(self, name, value=0):
        self.name, self.value = name, value
        self.constraints, self.determined_by = [], None
        self.walk_strength, self.stay, self.mark = WEAKEST, True, 0

class Constraint:
    def __init__(self, planner, strength):
        self.planner, self.strength = planner, strength
    def add(self):
        self.add_to_graph()
        self.planner.incremental_add(self)
    def satisfy(self, mark):
        self.choose_method(mark)
        if not self.is_satisfied():
            if self.strength == REQUIRED:
                raise RuntimeError("could not satisfy a required constraint")
            return None
        self.mark_inputs(mark)
        out = self.output()
        overridden = out.determined_by
        if overridden is not None:
            overridden.mark_unsatisfied()
        out.determined_by = self
        if not self.planner.add_propagate(self, mark):
            raise RuntimeError("cycle encountered")
        out.mark = mark
        return overridden
    def destroy(self):
        if self.is_satisfied():
            self.planner.incremental_remove(self)
        self.remove_from_graph()
    def is_input(self): return False
    def variables(self): return [self.output()]
    def remove_from_graph(self):
        for var in self.variables():
            if self in var.constraints:
                var.constraints.remove(self)
        self.mark_unsatisfied()

class UnaryConstraint(Constraint):
    def __init__(self, planner, var, strength, is_edit=False):
        super().__init__(planner, strength)
        self.my_output, self.satisfied, self.is_edit = var, False, is_edit
        self.add()
    def add_to_graph(self):
        self.my_output.constraints.append(self)
        self.satisfied = False
    def choose_method(self, mark):
        self.satisfied = self.my_output.mark != mark and stronger(self.strength, self.my_output.walk_strength)
    def is_satisfied(self): return self.satisfied
    def is_input(self): return self.is_edit
    def mark_inputs(self, mark): pass
    def output(self): return self.my_output
    def recalculate(self):
        self.my_output.walk_strength = self.strength
        self.my_output.stay = not self.is_input()
    def execute(self): pass  # stay and edit constraints compute nothing: the planner sets the value
    def mark_unsatisfied(self): self.satisfied = False
    def inputs_known(self, mark): return True

class BinaryConstraint(Constraint):
    def __init__(self, planner, v1, v2, strength, scale=None, offset=None):
        super().__init__(planner, strength)
        self.v1, self.v2, self.scale, self.offset, self.direction = v1, v2, scale, offset, None
        self.add()
    def variables(self): return [v for v in (self.v1, self.v2, self.scale, self.offset) if v is not None]
    def add_to_graph(self):
        for var in self.variables():
            var.constraints.append(self)
        self.direction = None
    def choose_method(self, mark):
        v1, v2 = self.v1, self.v2
        if v1.mark == mark:
            self.direction = "forward" if v2.mark != mark and stronger(self.strength, v2.walk_strength) else None
        elif v2.mark == mark:
            self.direction = "backward" if stronger(self.strength, v1.walk_strength) else None
        elif stronger(v1.walk_strength, v2.walk_strength):
            self.direction = "forward" if stronger(self.strength, v2.walk_strength) else None
        else:
            self.direction = "backward" if stronger(self.strength, v1.walk_strength) else None
    def is_satisfied(self): return self.direction is not None
    def mark_inputs(self, mark):
        for var in [self.input()] + [v for v in (self.scale, self.offset) if v is not None]:
            var.mark = mark
    def input(self): return self.v1 if self.direction == "forward" else self.v2
    def output(self): return self.v2 if self.direction == "forward" else self.v1
    def recalculate(self):
        source, out = self.input(), self.output()
        out.walk_strength = max(self.strength, source.walk_strength)
        out.stay = source.stay and all(v.stay for v in (self.scale, self.offset) if v is not None)
        if out.stay:
            self.execute()
    def execute(self):
        if self.scale is None:
            self.output().value = self.input().value
        elif self.direction == "forward":
            self.v2.value = self.v1.value * self.scale.value + self.offset.value
        else:
            self.v1.value = (self.v2.value - self.offset.value) // self.scale.value
    def mark_unsatisfied(self): self.direction = None
    def inputs_known(self, mark):
        source = self.input()
        return source.mark == mark or source.stay or source.determined_by is None

class Planner:
    def __init__(self):
        self.current_mark = 0
    def new_mark(self):
        self.current_mark += 1
        return self.current_mark
    def incremental_add(self, constraint):
        mark = self.new_mark()
        overridden = constraint.satisfy(mark)
        while overridden is not None:
            overridden = overridden.satisfy(mark)
    def incremental_remove(self, constraint):
        out = constraint.output()
        constraint.remove_from_graph()
        unsatisfied = self.remove_propagate_from(out)
        for strength in range(REQUIRED, WEAKEST + 1):
            for candidate in unsatisfied:
                if candidate.strength == strength:
                    self.incremental_add(candidate)
    def add_propagate(self, constraint, mark):
        todo = [constraint]
        while todo:
            current = todo.pop(0)
            if current.output().mark == mark:
                self.incremental_remove(constraint)
                return False
            current.recalculate()
            todo.extend(c for c in current.output().constraints if c is not current and c.is_satisfied())
        return True
    def remove_propagate_from(self, out):
        out.determined_by, out.walk_strength, out.stay = None, WEAKEST, True
        unsatisfied, todo = [], [out]
        while todo:
            var = todo.pop(0)
            unsatisfied.extend(c for c in var.constraints if not c.is_satisfied())
            for c in var.constraints:
                if c is not var.determined_by and c.is_satisfied():
                    c.recalculate()
                    todo.append(c.output())
        return unsatisfied
    def change(self, var, value):
        edit = UnaryConstraint(self, var, PREFERRED, is_edit=True)
        mark, plan, todo = self.new_mark(), [], [edit] if edit.is_satisfied() else []
        while todo:
            c = todo.pop(0)
            if c.output().mark != mark and c.inputs_known(mark):
                plan.append(c)
                c.output().mark = mark
                todo.extend(d for d in c.output().constraints if d is not c and d.is_satisfied())
        for _ in range(10):
            var.value = value
            for c in plan:
                c.execute()
        edit.destroy()

def chain_test(n):
    planner = Planner()
    variables = [Variable(f"v{i}") for i in range(n + 1)]
    for a, b in zip(variables, variables[1:]):
        BinaryConstraint(planner, a, b, REQUIRED)
    UnaryConstraint(planner, variables[-1], STRONG_DEFAULT)
    return [planner.change(variables[0], value) or variables[-1].value for value in (100, 17, 42)]

def projection_test(n):
    planner = Planner()
    scale, offset = Variable("scale", 10), Variable("offset", 1000)
    sources = [Variable(f"src{i}", i) for i in range(n)]
    dests = [Variable(f"dst{i}", i) for i in range(n)]
    for src, dst in zip(sources, dests):
        UnaryConstraint(planner, src, NORMAL)
        BinaryConstraint(planner, src, dst, REQUIRED, scale, offset)
    results = []
    for var, value, watched in ((sources[0], 17, dests[:1]), (dests[0], 1050, sources[:1]), (scale, 5, dests[:4]),
                                (offset, 2000, dests[:4])):
        planner.change(var, value)
        results.append([v.value for v in watched])
    return results

print("chain:", chain_test(25))
print("projection:", projection_test(12))
print("strength names:", STRENGTHS[PREFERRED], STRENGTHS[STRONG_DEFAULT])
