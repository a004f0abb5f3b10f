"""PEP 563: annotations stay strings under the future import, as CPython renders them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, get_type_hints


@dataclass
class Node:
    value: int
    next: Optional[Node] = None
    weights: dict[str, list[tuple[int, ...]]] | None = None

    def walk(self) -> list[int]:
        node, out = self, []
        while node is not None:
            out.append(node.value)
            node = node.next
        return out


def f(x: int | None = None, *, y: "quoted" = 1, **kw: Callable[[int], str]) -> Node[int]:
    return x


level: -1 + 2 * 3 = 5
print(Node.__annotations__)
print(f.__annotations__, __annotations__)
print(Node(1, Node(2, Node(3))).walk(), get_type_hints(Node)["next"])
