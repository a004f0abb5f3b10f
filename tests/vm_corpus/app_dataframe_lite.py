"""A miniature column-oriented dataframe: select, filter, group-by aggregates, join and pretty printing."""

from collections import defaultdict


class Frame:
    def __init__(self, columns):
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"ragged columns: {sorted(lengths)}")
        self.columns = {k: list(v) for k, v in columns.items()}

    @classmethod
    def from_rows(cls, rows):
        names = list(rows[0])
        return cls({n: [r[n] for r in rows] for n in names})

    def __len__(self):
        return len(next(iter(self.columns.values()), []))

    def rows(self):
        names = list(self.columns)
        for i in range(len(self)):
            yield {n: self.columns[n][i] for n in names}

    def select(self, *names):
        return Frame({n: self.columns[n] for n in names})

    def where(self, predicate):
        return Frame.from_rows([r for r in self.rows() if predicate(r)]) if any(map(predicate, self.rows())) else \
            Frame({n: [] for n in self.columns})

    def with_column(self, name, fn):
        return Frame({**self.columns, name: [fn(r) for r in self.rows()]})

    def group_by(self, key, **aggregates):
        groups = defaultdict(list)
        for row in self.rows():
            groups[row[key]].append(row)
        out = {key: sorted(groups)}
        for name, (column, fn) in aggregates.items():
            out[name] = [fn([r[column] for r in groups[k]]) for k in out[key]]
        return Frame(out)

    def join(self, other, on):
        index = defaultdict(list)
        for row in other.rows():
            index[row[on]].append(row)
        return Frame.from_rows([{**left, **right} for left in self.rows() for right in index.get(left[on], [])])

    def sort(self, by, reverse=False):
        return Frame.from_rows(sorted(self.rows(), key=lambda r: r[by], reverse=reverse))

    def __str__(self):
        names = list(self.columns)
        cells = [[str(v) if not isinstance(v, float) else f"{v:.2f}" for v in self.columns[n]] for n in names]
        widths = [max([len(n)] + [len(c) for c in col]) for n, col in zip(names, cells)]
        lines = [" | ".join(n.ljust(w) for n, w in zip(names, widths)), "-+-".join("-" * w for w in widths)]
        for i in range(len(self)):
            lines.append(" | ".join(cells[j][i].ljust(w) for j, w in enumerate(widths)))
        return "\n".join(lines)


sales = Frame.from_rows([
    {"id": 1, "region": "north", "product": "pen", "qty": 10, "price": 1.5},
    {"id": 2, "region": "south", "product": "pad", "qty": 3, "price": 4.0},
    {"id": 3, "region": "north", "product": "pad", "qty": 7, "price": 4.0},
    {"id": 4, "region": "east", "product": "pen", "qty": 1, "price": 1.5},
    {"id": 5, "region": "south", "product": "ink", "qty": 2, "price": 12.0},
])
sales = sales.with_column("revenue", lambda r: r["qty"] * r["price"])
print(sales)
print(sales.group_by("region", orders=("id", len), revenue=("revenue", sum), best=("revenue", max)))
managers = Frame({"region": ["north", "south", "west"], "manager": ["Ada", "Bo", "Cy"]})
print(sales.join(managers, "region").select("id", "manager", "revenue").sort("revenue", reverse=True))
print(len(sales.where(lambda r: r["qty"] > 100)), sales.where(lambda r: r["product"] == "pad").select("id", "qty"))
Frame({"a": [1, 2], "b": [1]})
