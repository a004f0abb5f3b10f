"""Real code under the VM: pure-Python standard-library modules, compiled by dxpy, against CPython's.

Each module's own source is compiled to DPB and executed as a separate
module object; the same exercise then runs against that copy and against
the module CPython imported, and every result must be equal.  This is the
corpus idea applied to large, idiomatic code nobody wrote for dxpy.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import textwrap as _textwrap
import types
from typing import Any, Callable

import pytest

from dxpy.vm import loads, to_bytes
from dxpy.vm.compiler import compile_source
from dxpy.vm.interpreter import run_module


def vm_copy(name: str) -> types.ModuleType:
    """``name`` compiled from its source and executed by the VM, as a fresh module."""
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None
    with open(spec.origin, encoding="utf-8") as file:
        source = file.read()
    module = types.ModuleType(f"dpb_{name.replace('.', '_')}")
    module.__dict__.update({"__file__": spec.origin, "__package__": spec.parent})
    sys.modules[module.__name__] = module  # as an import would: dataclasses looks itself up there
    run_module(loads(to_bytes(compile_source(source, spec.origin))), module.__dict__, spec.origin)
    return module


def outcome(exercise: Callable[[Any], Any], module: types.ModuleType) -> Any:
    """The exercise's result, or the type and message of what it raised."""
    try:
        return exercise(module)
    except Exception as exc:  # the comparison is the point: the same error on both sides
        return ("raised", type(exc).__name__, str(exc))


TEXT = "The quick brown fox jumps over the lazy dog. " * 4


def textwrap_exercise(m: Any) -> Any:
    return (m.fill(TEXT, 30), m.wrap(TEXT, 17, break_long_words=False), m.shorten(TEXT, 40),
            m.dedent("    a\n      b\n    c"), m.indent("x\n\ny", "> "), m.TextWrapper(width=12, max_lines=3).wrap(TEXT))


def fractions_exercise(m: Any) -> Any:
    f = m.Fraction
    values = [f(3, 4) + f(5, 6), f("2.5e-3"), f(1.1).limit_denominator(100), f(-7, 3) // 2, f(7, 3) % f(1, 2),
              f(2, 3) ** 3, f(9, 4) ** f(1, 2), round(f(7, 2)), f(1, 3) < f(1, 2), abs(f(-1, 9))]
    return [str(v) for v in values], str(f.from_decimal(__import__("decimal").Decimal("0.25")))


def statistics_exercise(m: Any) -> Any:
    data = [2.5, 3.25, 5.5, 5.5, 7.0, 11.25]
    return (m.mean(data), m.median(data), m.mode(data), m.stdev(data), m.pvariance(data), m.quantiles(data, n=4),
            m.harmonic_mean(data), m.median_grouped([1, 2, 2, 3, 4]), m.NormalDist(5, 2).cdf(6),
            m.correlation([1, 2, 3, 4], [2, 4, 5, 9]), m.linear_regression([1, 2, 3], [2, 4.1, 5.9]))


def shlex_exercise(m: Any) -> Any:
    return (m.split("cmd -x 'quoted arg' \"dq $HOME\" esc\\ aped # comment", comments=True),
            m.quote("it's here"), m.join(["a b", "c'd", ""]), list(m.shlex("a=b;c", punctuation_chars=True)))


def difflib_exercise(m: Any) -> Any:
    a = "one two three four five six".split()
    b = "one 2 three four six seven".split()
    matcher = m.SequenceMatcher(None, a, b)
    return (list(m.unified_diff(a, b, lineterm="")), list(m.ndiff(a, b)), matcher.get_opcodes(), matcher.ratio(),
            m.get_close_matches("appel", ["ape", "apple", "peach", "puppy"]),
            list(m.context_diff(a, b, "a", "b", lineterm="")))


def pprint_exercise(m: Any) -> Any:
    data = {"b": [1, {"x": tuple(range(12))}], "a": {"deep": [[1, 2], [3, [4, [5]]]]}, "s": "text " * 12}
    return m.pformat(data, width=40), m.pformat(list(range(40)), compact=True), m.saferepr({1: [2, {3}]})


def calendar_exercise(m: Any) -> Any:
    return (m.month(2024, 2), m.monthcalendar(2023, 12), m.TextCalendar(m.SUNDAY).formatmonth(2021, 7),
            m.isleap(2100), m.weekday(2000, 1, 1), m.HTMLCalendar().formatmonth(2024, 1)[:200])


def ipaddress_exercise(m: Any) -> Any:
    net = m.ip_network("192.168.8.0/22")
    return ([str(s) for s in net.subnets(new_prefix=24)], str(net.supernet()), net.overlaps(m.ip_network("192.168.9.0/24")),
            [str(n) for n in m.collapse_addresses([m.ip_network("10.0.0.0/25"), m.ip_network("10.0.0.128/25")])],
            str(m.ip_address("2001:db8::8:800:200c:417a")), m.ip_address("10.1.2.3").reverse_pointer,
            sorted(str(a) for a in m.ip_network("10.0.0.0/29").hosts()))


def base64_exercise(m: Any) -> Any:
    data = bytes(range(40))
    return (m.b32encode(data), m.b32decode(m.b32encode(data)) == data, m.b85encode(data), m.a85encode(data, wrapcol=20),
            m.b16encode(b"\x00\xff"), m.b32hexencode(b"abc"))


def dataclasses_exercise(m: Any) -> Any:
    @m.dataclass(order=True, frozen=True)
    class Point:
        x: int
        y: int = 0
        tags: tuple = m.field(default=(), compare=False)

    p = Point(1, 2, ("a",))
    return (repr(p), p < Point(1, 3), m.asdict(p), m.astuple(p), repr(m.replace(p, y=5)), [f.name for f in m.fields(p)],
            hash(p) == hash(Point(1, 2)))


def enum_exercise(m: Any) -> Any:
    class Color(m.Enum):
        RED = 1
        GREEN = 2
        CRIMSON = 1

    class Perm(m.IntFlag):
        R = 4
        W = 2
        X = 1

    class Auto(m.Enum):
        A = m.auto()
        B = m.auto()

    return (repr(Color.CRIMSON), [repr(c) for c in Color], Color(2).name, repr(Perm.R | Perm.W), Perm(7).value, str(Perm.R),
            [a.value for a in Auto], Color.__members__.keys() == {"RED", "GREEN", "CRIMSON"}, Perm.R in Perm(6))


def json_exercise(m: Any) -> Any:
    document = {"name": "dxpy", "list": [1, 2.5, None, True, "é\n\"q\""], "nested": {"k": [{}, []]}}
    encoder = m.JSONEncoder(indent=2, sort_keys=True, ensure_ascii=False)
    return "".join(encoder.iterencode(document)), m.JSONDecoder().decode('{"a": [1, 2, {"b": null}], "c": "\\u00e9"}')


def argparse_exercise(m: Any) -> Any:
    parser = m.ArgumentParser(prog="prog", exit_on_error=False)
    parser.add_argument("paths", nargs="+")
    parser.add_argument("-n", "--count", type=int, default=3)
    parser.add_argument("--mode", choices=["a", "b"], default="a")
    parser.add_argument("-q", action="store_true")
    return sorted(vars(parser.parse_args(["x", "y", "-n", "5", "--mode", "b", "-q"])).items()), parser.format_usage()


def configparser_exercise(m: Any) -> Any:
    parser = m.ConfigParser()
    parser.read_string("[DEFAULT]\nroot = /srv\n[app]\npath = %(root)s/app\nport = 8080\ndebug = yes\n")
    return (parser["app"]["path"], parser.getint("app", "port"), parser.getboolean("app", "debug"),
            parser.sections(), sorted(parser["app"]))


def pydecimal_exercise(m: Any) -> Any:
    d = m.Decimal
    context = m.Context(prec=28)
    return [str(v) for v in (context.divide(d(1), d(7)), d("1.30") + d("1.20"), d("2").sqrt(context),
                             d("123.456").quantize(d("0.01"), rounding=m.ROUND_HALF_EVEN), d(10) ** 20 / d(3),
                             d("-0.0") * d(5), d("1e-3").exp(context), d(2).ln(context), d("7.25") % d(2))]


def graphlib_exercise(m: Any) -> Any:
    return list(m.TopologicalSorter({"d": {"b", "c"}, "c": {"a"}, "b": {"a"}}).static_order())


def collections_exercise(m: Any) -> Any:
    point = m.namedtuple("Point", "x y", defaults=[0])
    counter = m.Counter("abracadabra")
    chain = m.ChainMap({"a": 1}, {"a": 2, "b": 3})
    return (repr(point(1)), point._fields, counter.most_common(2), sorted((counter - m.Counter("aab")).items()),
            dict(chain), list(m.UserList([3, 1, 2])), m.UserString("abc").upper())


def heapq_exercise(m: Any) -> Any:
    return (list(m.merge([1, 4, 9], [2, 3, 10], [0, 11])), list(m.merge(["b", "a"], ["c"], key=str, reverse=True)),
            m.nlargest(3, [5, 1, 8, 3, 9, 2]), m.nsmallest(2, ["pear", "fig", "apple"], key=len))


def fnmatch_exercise(m: Any) -> Any:
    names = ["a.py", "b.txt", "c.PY", "data_01.csv", "data_x.csv", "[x].md"]
    return (m.filter(names, "*.py"), [m.fnmatchcase(n, "data_[0-9]*.csv") for n in names], m.translate("a*b?[!c]"),
            m.fnmatch("[x].md", "[[]x].md"))


def string_exercise(m: Any) -> Any:
    template = m.Template("$who likes ${what}s; $$5")
    return (template.substitute(who="Tim", what="kipper"), template.safe_substitute(who="X"), m.capwords(" a  b-c d "),
            list(m.Formatter().parse("x{0}y{name!r:>4}z")), m.Formatter().format("{0}-{x:>3}", 1, x=2))


def reprlib_exercise(m: Any) -> Any:
    short = m.Repr()
    short.maxlist, short.maxstring, short.maxdict = 3, 10, 2
    return short.repr(list(range(50))), short.repr("x" * 40), short.repr({i: i for i in range(9)}), m.repr(set(range(30)))


def tomllib_exercise(m: Any) -> Any:
    text = 'title = "t"\n[a]\nb = [1, 2.5, "x", true]\nc = { d = 1979-05-27T07:32:00Z }\n[[e]]\nf = 0x1f\n'
    return repr(m.loads(text))


def ast_exercise(m: Any) -> Any:
    source = "def f(a, *b, c=1, **d):\n    return [x async for x in y] if a else {k: v for k, v in d.items()}\n"
    return m.unparse(m.parse(source)), m.literal_eval("{'a': [1, 2.5, (True, None)], 'b': -3j}"), \
        m.dump(m.parse("x = 1 + 2"), indent=1)


def tokenize_exercise(m: Any) -> Any:
    import io
    tokens = m.generate_tokens(io.StringIO("def f(x):\n    return x ** 2  # square\n").readline)
    return [(m.tok_name[t.type], t.string, t.start) for t in tokens]


def pickle_exercise(m: Any) -> Any:
    value = {"list": [1, 2.5, None, "s", b"b"], "tuple": (1, (2,)), "set": {3}, "big": 2 ** 100, "nested": {"x": []}}
    return [m._loads(m._dumps(value, protocol=p)) == value for p in range(6)], m._dumps([1, "a"], protocol=2)


def pyio_exercise(m: Any) -> Any:
    raw = m.BytesIO()
    text = m.TextIOWrapper(raw, encoding="utf-8", newline="")
    text.write("héllo\nwörld\r\nlast")
    text.flush()
    data = raw.getvalue()
    reader = m.TextIOWrapper(m.BufferedReader(m.BytesIO(data)), encoding="utf-8")
    string_io = m.StringIO("a\nb\nc")
    return data, reader.readlines(), string_io.readline(), string_io.read(), string_io.tell()


def html_parser_exercise(m: Any) -> Any:
    events = []

    class Collect(m.HTMLParser):
        def handle_starttag(self, tag, attrs):
            events.append(("start", tag, attrs))

        def handle_endtag(self, tag):
            events.append(("end", tag))

        def handle_data(self, data):
            events.append(("data", data))

    Collect().feed("<p class='x'>Hi &amp; <b>bye</b><br/><!-- c --></p>")
    return events


def urllib_parse_exercise(m: Any) -> Any:
    url = "https://user:pw@example.com:8080/a/b;p?q=1&q=2&r=%20x#frag"
    parts = m.urlsplit(url)
    return (tuple(parts), parts.port, m.parse_qs(parts.query), m.urlencode({"a b": "c&d", "n": [1, 2]}, doseq=True),
            m.quote("a b/c?d"), m.unquote_plus("a+b%2Fc"), m.urljoin(url, "../x?y=1"), m.urldefrag(url)[1])


def uuid_exercise(m: Any) -> Any:
    namespace = m.NAMESPACE_DNS
    return str(m.uuid3(namespace, "python.org")), str(m.uuid5(namespace, "python.org")), m.UUID(int=2 ** 127).hex


def random_exercise(m: Any) -> Any:
    rng = m.Random(12345)
    return (rng.random(), rng.randrange(10, 1000, 7), rng.sample(range(100), 5), rng.choices("abc", [5, 1, 1], k=6),
            rng.gauss(0, 1), rng.shuffle(lst := list(range(8))) or lst, rng.uniform(1, 2), rng.randbytes(4))


def re_compiler_exercise(m: Any) -> Any:
    patterns = [r"(?P<word>\w+)-(\d{2,4})", r"(?i)colou?r\b", r"^(a|b)*?c$", r"(?<=\$)\d+(\.\d\d)?", r"[^\W\d_]+"]
    text = "Colour red-2024 and COLOR blue-99 cost $12.50 ababc"
    results = []
    for source in patterns:
        compiled = m.compile(source, 0)
        results.append((compiled.findall(text), compiled.groups, sorted(compiled.groupindex.items())))
    return results


def strptime_exercise(m: Any) -> Any:
    return [tuple(m._strptime(text, fmt)[0]) for text, fmt in [
        ("2024-02-29 13:45:10", "%Y-%m-%d %H:%M:%S"), ("07/04/76", "%m/%d/%y"), ("Tue 5 Mar 2024", "%a %d %b %Y"),
        ("12:30 PM", "%I:%M %p"), ("2023-W10-3", "%G-W%V-%u")]]


def getopt_exercise(m: Any) -> Any:
    argv = ["-a", "-b", "val", "--long", "--opt=5", "file1", "file2"]
    return m.getopt(argv, "ab:", ["long", "opt="]), m.gnu_getopt(["x", "-a", "y"], "a")


def zipfile_exercise(m: Any) -> Any:
    import io
    buffer = io.BytesIO()
    with m.ZipFile(buffer, "w", compression=m.ZIP_DEFLATED) as archive:
        for name, content in [("a.txt", b"alpha" * 50), ("dir/b.bin", bytes(range(200)))]:
            archive.writestr(m.ZipInfo(name, date_time=(2024, 1, 2, 3, 4, 6)), content)
    with m.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        infos = [(i.filename, i.file_size, i.CRC, i.date_time) for i in archive.infolist()]
        return buffer.getvalue(), infos, archive.read("a.txt")[:10], archive.testzip()


def typing_exercise(m: Any) -> Any:
    T = m.TypeVar("T")

    class Box(m.Generic[T]):
        item: T

    def f(x: m.Optional[int], y: "m.List[str]" = None) -> m.Dict[str, m.Tuple[int, ...]]:
        return {}

    return (repr(Box[int]), repr(m.Optional[m.Union[int, str]]), repr(m.get_args(m.Dict[str, m.List[int]])),
            repr(m.get_origin(m.List[int])), repr(m.Callable[[int], str]), repr(m.Literal[1, "a"]),
            sorted(repr(v) for v in m.get_type_hints(f, localns={"m": m}).values()))


def email_exercise(m: Any) -> Any:
    raw = ("From: Ann <ann@example.com>\nTo: bob@example.com\nSubject: =?utf-8?q?caf=C3=A9?=\n"
           "Content-Type: text/plain; charset=utf-8\n\nHello,\nworld\n")
    message = m.message_from_string(raw)
    return (message["From"], message["To"], str(message["Subject"]), message.get_content_type(),
            message.get_payload(), message.get_param("charset"), sorted(message.keys()))


EXERCISES = {"textwrap": textwrap_exercise, "fractions": fractions_exercise, "statistics": statistics_exercise,
             "shlex": shlex_exercise, "difflib": difflib_exercise, "pprint": pprint_exercise,
             "calendar": calendar_exercise, "ipaddress": ipaddress_exercise, "base64": base64_exercise,
             "dataclasses": dataclasses_exercise, "enum": enum_exercise, "json.encoder": None,
             "argparse": argparse_exercise, "configparser": configparser_exercise, "_pydecimal": pydecimal_exercise,
             "graphlib": graphlib_exercise, "collections": collections_exercise, "heapq": heapq_exercise,
             "fnmatch": fnmatch_exercise, "string": string_exercise, "reprlib": reprlib_exercise,
             "tomllib._parser": tomllib_exercise, "ast": ast_exercise, "tokenize": tokenize_exercise,
             "pickle": pickle_exercise, "_pyio": pyio_exercise, "html.parser": html_parser_exercise,
             "urllib.parse": urllib_parse_exercise, "uuid": uuid_exercise, "random": random_exercise,
             "re._compiler": re_compiler_exercise, "_strptime": strptime_exercise, "getopt": getopt_exercise,
             "zipfile": zipfile_exercise, "typing": typing_exercise, "email": email_exercise}


@pytest.mark.parametrize("name", [n for n, e in EXERCISES.items() if e is not None])
def test_stdlib_module_behaves_the_same_under_the_vm(name: str) -> None:
    exercise = EXERCISES[name]
    assert exercise is not None
    assert outcome(exercise, vm_copy(name)) == outcome(exercise, importlib.import_module(name))


def test_json_package_modules_under_the_vm() -> None:
    """json's pure-Python encoder and decoder paths (indent forces the Python encoder)."""
    vm_encoder, vm_decoder = vm_copy("json.encoder"), vm_copy("json.decoder")
    ours = types.SimpleNamespace(JSONEncoder=vm_encoder.JSONEncoder, JSONDecoder=vm_decoder.JSONDecoder)
    assert outcome(json_exercise, ours) == outcome(json_exercise, importlib.import_module("json"))


def test_exercises_cover_real_work() -> None:
    """Guard against an exercise that silently compares two errors."""
    for name, exercise in EXERCISES.items():
        if exercise is not None:
            result = outcome(exercise, importlib.import_module(name))
            assert not (isinstance(result, tuple) and result[:1] == ("raised",)), (name, result)
    assert _textwrap.fill("a b", 1) == "a\nb"
