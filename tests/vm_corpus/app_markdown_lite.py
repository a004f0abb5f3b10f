"""A small Markdown-to-HTML converter: headings, emphasis, code, links, lists, blockquotes and paragraphs."""

import html
import re

INLINE = [
    (re.compile(r"`([^`]+)`"), lambda m: f"<code>{m[1]}</code>"),
    (re.compile(r"\*\*(.+?)\*\*"), lambda m: f"<strong>{m[1]}</strong>"),
    (re.compile(r"(?<!\*)\*(?!\*)(.+?)\*"), lambda m: f"<em>{m[1]}</em>"),
    (re.compile(r"\[([^\]]+)\]\(([^)]+)\)"), lambda m: f'<a href="{m[2]}">{m[1]}</a>'),
]


def inline(text):
    text = html.escape(text, quote=False)
    for pattern, replace in INLINE:
        text = pattern.sub(replace, text)
    return text


def convert(markdown):
    out, paragraph, list_kind = [], [], None

    def flush():
        nonlocal list_kind
        if paragraph:
            out.append(f"<p>{inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if list_kind:
            out.append(f"</{list_kind}>")
            list_kind = None

    lines = iter(markdown.splitlines())
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            code = []
            for inner in lines:
                if inner.strip().startswith("```"):
                    break
                code.append(html.escape(inner))
            out.append("<pre><code>" + "\n".join(code) + "</code></pre>")
        elif heading := re.match(r"(#{1,6})\s+(.*)", stripped):
            flush()
            level = len(heading[1])
            out.append(f"<h{level}>{inline(heading[2])}</h{level}>")
        elif item := re.match(r"([-*]|\d+\.)\s+(.*)", stripped):
            kind = "ol" if item[1][0].isdigit() else "ul"
            if paragraph or list_kind != kind:
                flush()
                out.append(f"<{kind}>")
                list_kind = kind
            out.append(f"  <li>{inline(item[2])}</li>")
        elif stripped.startswith(">"):
            flush()
            out.append(f"<blockquote>{inline(stripped.lstrip('> '))}</blockquote>")
        elif not stripped:
            flush()
        else:
            if list_kind:
                flush()
            paragraph.append(stripped)
    flush()
    return "\n".join(out)


DOC = """# The *DPB* VM

Runs **Python** bytecode of its own, see [the spec](docs/dpb-format.md).
It is `slow` but simple & honest.

- compiler <from ast>
- interpreter
- JIT *later*

1. write programs
2. compare with **CPython**

> differential testing finds bugs

```
match x:
    case [a, *rest]: print(a < 3)
```
Final words.
"""
print(convert(DOC))
print(convert(""), repr(convert("   ")), convert("plain *a* **b** `c`"))
print(inline(None))
