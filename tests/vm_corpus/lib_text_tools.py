"""Text utilities: textwrap, difflib, pprint, reprlib, shlex and string constants on a small corpus."""

import difflib
import pprint
import reprlib
import shlex
import string
import textwrap

PARAGRAPH = ("Differential testing runs the same program on two implementations and compares everything "
             "observable: output, exceptions and tracebacks. Any difference is a bug in one of them.")
print(textwrap.fill(PARAGRAPH, width=40, initial_indent="> ", subsequent_indent="  "))
print(textwrap.shorten(PARAGRAPH, width=50, placeholder=" [...]"))
print(textwrap.dedent("""
        indented
          more
        back
    """).strip().splitlines(), textwrap.indent("a\nb", "| "))
old = ["line one", "line two", "line three", "line four"]
new = ["line one", "line 2", "line three", "line four", "line five"]
print("\n".join(difflib.unified_diff(old, new, "old.txt", "new.txt", lineterm="")))
print(difflib.get_close_matches("appel", ["ape", "apple", "peach", "puppy"]), round(difflib.SequenceMatcher(None, "abcd", "bcde").ratio(), 3))
print([op for op in difflib.SequenceMatcher(None, "kitten", "sitting").get_opcodes()])
data = {"name": "dxpy", "parts": ["compiler", "interpreter", "jit"], "sizes": {"small": list(range(12)), "n": 3},
        "nested": [{"a": 1, "b": [1, 2, {"c": 3}]}]}
pprint.pprint(data, width=60, sort_dicts=True)
print(pprint.pformat(list(range(30)), compact=True, width=50))
short = reprlib.Repr()
short.maxlist = 4
short.maxstring = 12
print(short.repr(list(range(100))), short.repr("a very long string indeed"), reprlib.repr(set(range(20))))
print(shlex.split('cmd --name "two words" \'single q\' esc\\ aped'), shlex.quote("it's"), shlex.join(["a b", "c"]))
print(string.ascii_letters[:10], string.punctuation[:8], string.capwords("hello   wide world"), string.hexdigits)
formatter = string.Formatter()
print(list(formatter.parse("a{0}b{name!r:>5}c")), formatter.format("{0}-{x}", 1, x=2))
shlex.split('unterminated "quote')
