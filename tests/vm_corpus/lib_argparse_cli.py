"""argparse driven with explicit argument lists: subcommands, types, choices, defaults, mutually exclusive groups."""

import argparse


def positive(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not positive")
    return value


def build():
    parser = argparse.ArgumentParser(prog="tool", description="demo", exit_on_error=False)
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("--level", choices=["low", "high"], default="low")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--json", action="store_true")
    group.add_argument("--csv", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run")
    run.add_argument("target")
    run.add_argument("--jobs", type=positive, default=1)
    run.add_argument("--tag", action="append", default=[])
    show = commands.add_parser("show")
    show.add_argument("items", nargs="*", type=int)
    show.add_argument("--sum", dest="total", action="store_true")
    return parser


parser = build()
for argv in (["run", "build"], ["-vv", "--level", "high", "run", "deploy", "--jobs", "4", "--tag", "a", "--tag", "b"],
             ["--json", "show", "1", "2", "3", "--sum"], ["show"]):
    namespace = parser.parse_args(argv)
    print(sorted(vars(namespace).items()))
print(positive("3"))
try:
    positive("0")
except argparse.ArgumentTypeError as error:
    print("ArgumentTypeError:", error)
for argv in (["--level", "medium", "run", "x"], ["--json", "--csv", "show"], ["--verbose=3", "show"]):
    try:
        parser.parse_args(argv)
    except argparse.ArgumentError as error:
        print("ArgumentError:", error)
known, extra = parser.parse_known_args(["run", "t", "--unknown", "5"])
print(known.target, extra)
print(parser.format_usage().strip())
namespace = argparse.Namespace(a=1)
namespace.b = 2
print(namespace, "a" in namespace, vars(namespace))
parser.parse_args(["--level", "extreme", "show"])
