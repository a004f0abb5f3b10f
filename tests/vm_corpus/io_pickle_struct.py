"""Round trips: pickle of VM-defined classes, struct packing of records, json with custom hooks."""

import io
import json
import pickle
import struct
from dataclasses import dataclass, asdict, field


@dataclass
class Employee:
    name: str
    age: int
    skills: list = field(default_factory=list)
    manager: "Employee | None" = None


class Ledger:
    def __init__(self, owner):
        self.owner = owner
        self.entries = []

    def add(self, amount, memo):
        self.entries.append((amount, memo))
        return self

    def balance(self):
        return sum(amount for amount, _ in self.entries)

    def __getstate__(self):
        return {"owner": self.owner, "entries": self.entries, "version": 2}

    def __setstate__(self, state):
        self.owner = state["owner"]
        self.entries = [tuple(e) for e in state["entries"]]
        self.restored_from = state["version"]


boss = Employee("Ada", 36, ["math"])
worker = Employee("Bob", 29, ["python", "c"], boss)
for protocol in (0, 2, pickle.HIGHEST_PROTOCOL):
    data = pickle.dumps([worker, boss, {"shared": boss}], protocol=protocol)
    w, b, d = pickle.loads(data)
    print(protocol, w == worker, w.manager is b, d["shared"] is b, w.manager.skills)

ledger = Ledger("shop").add(100, "sale").add(-30, "refund")
copy = pickle.loads(pickle.dumps(ledger))
print(copy.owner, copy.balance(), copy.entries, copy.restored_from)

RECORD = struct.Struct("<10sHif?")
buffer = io.BytesIO()
rows = [(b"widget", 3, -7, 2.5, True), (b"gadget", 65535, 2**31 - 1, -0.125, False)]
for row in rows:
    buffer.write(RECORD.pack(*row))
raw = buffer.getvalue()
print(len(raw), RECORD.size, raw[:12].hex())
decoded = [RECORD.unpack_from(raw, offset) for offset in range(0, len(raw), RECORD.size)]
print([(name.rstrip(b"\0").decode(), qty, delta, price, flag) for name, qty, delta, price, flag in decoded])
print(struct.pack(">I", 0xDEADBEEF).hex(), struct.unpack("<hh", b"\x01\x00\xff\xff"), struct.calcsize("@bq"))
try:
    struct.pack("<H", 70000)
except struct.error as error:
    print("struct.error:", error)


def encode(obj):
    if isinstance(obj, Employee):
        return {"__employee__": asdict(obj)}
    if isinstance(obj, complex):
        return {"__complex__": [obj.real, obj.imag]}
    raise TypeError(f"not serialisable: {type(obj).__name__}")


def decode(d):
    if "__complex__" in d:
        return complex(*d["__complex__"])
    return d


text = json.dumps({"staff": [worker], "z": 1 + 2j, "ratio": 0.1}, default=encode, sort_keys=True, indent=1)
print(text.count("\n"), len(text))
back = json.loads(text, object_hook=decode)
print(back["z"], back["staff"][0]["__employee__"]["manager"]["name"])
print(json.dumps([1.0, float("inf"), None, True, "é"], ensure_ascii=False, allow_nan=True))
json.dumps({"bad": object()}, default=encode)
