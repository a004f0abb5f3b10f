"""A spreadsheet-like grid: cell formulas referencing other cells, dependency ordering, cycle detection, formatting."""

import re

CELL = re.compile(r"\b([A-Z])(\d+)\b")


class Sheet:
    def __init__(self):
        self.raw = {}
        self.cache = {}

    def set(self, ref, value):
        self.raw[ref] = value
        self.cache.clear()

    def dependencies(self, ref):
        value = self.raw.get(ref, "")
        if isinstance(value, str) and value.startswith("="):
            return [a + b for a, b in CELL.findall(value)]
        return []

    def evaluate(self, ref, visiting=()):
        if ref in visiting:
            raise ValueError(f"cycle: {' -> '.join(visiting + (ref,))}")
        if ref in self.cache:
            return self.cache[ref]
        value = self.raw.get(ref, 0)
        if isinstance(value, str) and value.startswith("="):
            expression = value[1:]
            expression = re.sub(r"SUM\(([A-Z])(\d+):([A-Z])(\d+)\)",
                                lambda m: "(" + "+".join(f"{c}{r}" for c in self.columns(m[1], m[3])
                                                         for r in range(int(m[2]), int(m[4]) + 1)) + ")",
                                expression)
            names = {a + b: self.evaluate(a + b, visiting + (ref,)) for a, b in CELL.findall(expression)}
            value = eval(expression, {"__builtins__": {}, "max": max, "min": min, "round": round}, names)
        self.cache[ref] = value
        return value

    @staticmethod
    def columns(first, last):
        return [chr(c) for c in range(ord(first), ord(last) + 1)]

    def render(self, columns, rows):
        header = "    " + "".join(f"{c:>10}" for c in columns)
        lines = [header]
        for r in range(1, rows + 1):
            cells = []
            for c in columns:
                value = self.evaluate(f"{c}{r}")
                cells.append(f"{value:>10.2f}" if isinstance(value, float) else f"{value!s:>10}")
            lines.append(f"{r:>4}" + "".join(cells))
        return "\n".join(lines)


sheet = Sheet()
for ref, value in {"A1": 12, "A2": 30, "A3": 7.5, "B1": "=A1*2", "B2": "=A2+B1", "B3": "=SUM(A1:A3)",
                   "C1": "=max(B1, B2, B3)", "C2": "=round(B3 / 3, 2)", "C3": "=C1 - C2"}.items():
    sheet.set(ref, value)
print(sheet.render("ABC", 3))
print(sheet.dependencies("C3"), sheet.dependencies("A1"))
sheet.set("A1", 100)
print(sheet.evaluate("C3"), sheet.evaluate("B3"))
sheet.set("A1", "=C3")
try:
    sheet.evaluate("C3")
except ValueError as error:
    print(error)
sheet.set("A1", "=A2 / 0")
sheet.evaluate("B1")
