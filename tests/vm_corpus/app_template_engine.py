"""A template engine: {{ expressions }} with filters, {% for %} / {% if %} blocks compiled to a node tree."""

import html
import re

TOKEN = re.compile(r"({{.*?}}|{%.*?%})", re.S)


class TemplateError(Exception):
    pass


FILTERS = {"upper": str.upper, "lower": str.lower, "title": str.title, "escape": html.escape,
           "length": len, "reverse": lambda v: v[::-1], "join": ", ".join, "default": lambda v: v or "-"}


def resolve(expression, context):
    expression, *filters = [part.strip() for part in expression.split("|")]
    value = context
    for part in expression.split("."):
        if isinstance(value, dict):
            if part not in value:
                raise TemplateError(f"undefined: {expression}")
            value = value[part]
        else:
            value = getattr(value, part)
    for name in filters:
        if name not in FILTERS:
            raise TemplateError(f"unknown filter {name!r}")
        value = FILTERS[name](value)
    return value


def parse(tokens, closing=None):
    nodes = []
    while tokens:
        token = tokens.pop(0)
        if token.startswith("{{"):
            nodes.append(("var", token[2:-2].strip()))
        elif token.startswith("{%"):
            words = token[2:-2].split()
            if words[0] == closing or (closing == "endif" and words[0] == "else"):
                return nodes, words[0]
            if words[0] == "for":
                body, _ = parse(tokens, "endfor")
                nodes.append(("for", words[1], words[3], body))
            elif words[0] == "if":
                body, ended = parse(tokens, "endif")
                otherwise = parse(tokens, "endif")[0] if ended == "else" else []
                nodes.append(("if", " ".join(words[1:]), body, otherwise))
            else:
                raise TemplateError(f"unknown tag {words[0]!r}")
        elif token:
            nodes.append(("text", token))
    if closing:
        raise TemplateError(f"missing {closing}")
    return nodes, None


def render(nodes, context):
    out = []
    for node in nodes:
        kind = node[0]
        if kind == "text":
            out.append(node[1])
        elif kind == "var":
            out.append(str(resolve(node[1], context)))
        elif kind == "for":
            _, name, source, body = node
            items = resolve(source, context)
            for index, item in enumerate(items):
                out.append(render(body, {**context, name: item, "loop": {"index": index + 1,
                                                                         "last": index == len(items) - 1}}))
        else:
            _, test, body, otherwise = node
            negate = test.startswith("not ")
            value = bool(resolve(test[4:] if negate else test, context))
            out.append(render(body if value != negate else otherwise, context))
    return "".join(out)


def compile_template(text):
    return parse([t for t in TOKEN.split(text) if t])[0]


PAGE = """<h1>{{ title | title }}</h1>
{% for user in users %}<li>{{ loop.index }}. {{ user.name | escape }}{% if user.admin %} (admin){% else %} (user){% endif %}{% if not loop.last %},{% endif %}</li>
{% endfor %}<p>{{ users | length }} users; tags: {{ tags | join }}; motto: {{ motto | default }}</p>"""
context = {"title": "team roster", "users": [{"name": "Ann <root>", "admin": True}, {"name": "Bob", "admin": False}],
           "tags": ["a", "b"], "motto": ""}
tree = compile_template(PAGE)
print(render(tree, context))
print(len(tree), [node[0] for node in tree])
for broken in ["{% for x in xs %}no end", "{{ missing }}", "{{ title | shout }}", "{% while %}"]:
    try:
        print(render(compile_template(broken), {"title": "t", "xs": []}))
    except TemplateError as error:
        print("TemplateError:", error)
render(compile_template("{{ title.nope }}"), {"title": "t"})
