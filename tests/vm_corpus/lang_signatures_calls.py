"""Function signatures: positional-only, keyword-only, defaults evaluated once, *args/**kwargs forwarding, errors."""

import inspect


def positional_only(a, b, /, c, *, d=4):
    return a, b, c, d


def collect(first, *rest, sep="-", **options):
    return sep.join(map(str, (first, *rest))), dict(sorted(options.items()))


def mutable_default(item, bucket=[]):
    bucket.append(item)
    return bucket


def safe_default(item, bucket=None):
    bucket = [] if bucket is None else bucket
    bucket.append(item)
    return bucket


def forward(*args, **kwargs):
    return collect(*args, **kwargs)


def annotated(x: int, y: "float" = 1.0) -> str:
    return f"{x}:{y}"


def keyword_defaults(*, level=1, tag):
    return level, tag


counter = 0


def default_evaluated_once(value=print("evaluating default once") or 7):
    return value


print(positional_only(1, 2, 3), positional_only(1, 2, c=3, d=5))
print(collect(1), collect(1, 2, 3, sep="+", z=1, a=2), forward("x", "y", sep="/", k=True))
print(mutable_default(1), mutable_default(2), safe_default(1), safe_default(2))
print(annotated(3), annotated.__annotations__, annotated.__defaults__, keyword_defaults.__kwdefaults__)
print(keyword_defaults(tag="t"), default_evaluated_once(), default_evaluated_once())
print(str(inspect.signature(positional_only)), str(inspect.signature(collect)))
print([p.kind.name for p in inspect.signature(positional_only).parameters.values()])
bound = inspect.signature(collect).bind(1, 2, sep=":", extra=3)
print(bound.arguments)
calls = [
    lambda: positional_only(1, b=2, c=3),
    lambda: positional_only(1, 2),
    lambda: positional_only(1, 2, 3, 4),
    lambda: keyword_defaults(1),
    lambda: keyword_defaults(),
    lambda: collect(sep="x"),
    lambda: annotated(1, x=2),
    lambda: annotated(1, z=2),
]
for call in calls:
    try:
        call()
    except TypeError as error:
        print("TypeError:", error)
print((lambda *a, **k: (a, k))(1, two=2), (lambda a, b=2, *c, d, e=5, **f: (a, b, c, d, e, f))(1, d=4))
args, kwargs = (1, 2), {"c": 3}
print(positional_only(*args, **kwargs), max(*[3, 9, 4]), dict(**{"a": 1}, b=2))
positional_only(1, 2, 3, d=1, e=2)
