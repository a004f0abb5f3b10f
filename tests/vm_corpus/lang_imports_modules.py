"""Imports: absolute, dotted, aliases, from-imports, importlib, module attributes and a failing import."""

import os.path
import collections.abc as cabc
import importlib
import sys
from math import factorial as fact, gcd, pi
from json import dumps, loads
from os import sep as separator
from string import ascii_lowercase, digits
import xml.etree.ElementTree as ET

print(os.path.join("a", "b", "c.txt"), os.path.splitext("archive.tar.gz"), os.path.basename("/x/y/z.py"))
print(issubclass(list, cabc.MutableSequence), cabc.Mapping.__name__)
print(fact(10), gcd(84, 36), round(pi, 5), separator == os.sep)
print(loads(dumps({"a": [1, 2]})), ascii_lowercase[:5], digits[-3:])
textwrap = importlib.import_module("textwrap")
print(textwrap.fill("the quick brown fox jumps over the lazy dog", width=16).splitlines())
print("json" in sys.modules, sys.modules["math"].sqrt(16), type(os).__name__)
root = ET.fromstring("<root><item id='1'>alpha</item><item id='2'>beta</item></root>")
print([(item.get("id"), item.text) for item in root.iter("item")])
item = ET.SubElement(root, "item", id="3")
item.text = "gamma"
print(ET.tostring(root, encoding="unicode"))


def lazy_import():
    import statistics
    from fractions import Fraction
    return statistics.median([5, 1, 3]), Fraction(3, 9)


print(lazy_import(), "statistics" in dir() or "not at module level")
import heapq as hq, bisect
print(hq.nsmallest(2, [5, 3, 9, 1]), bisect.bisect([1, 3, 5], 4))
print(__name__, isinstance(__builtins__, dict) or hasattr(__builtins__, "print"))
try:
    from math import not_a_function
except ImportError as error:
    print("ImportError:", error)
try:
    import definitely_not_a_module_xyz
except ModuleNotFoundError as error:
    print("ModuleNotFoundError:", error, error.name)
from collections import *
print(OrderedDict.__name__, "deque" in dir())
import no_such_module.sub
