"""tomllib: parse a configuration document, merge layered configs, validate types, and report bad TOML."""

import tomllib

BASE = """
title = "dxpy settings"
version = 3
ratio = 0.75
enabled = true
released = 2024-05-17
tags = ["vm", "jit", "aio"]

[server]
host = "127.0.0.1"
ports = [8000, 8001]
timeouts = { connect = 1.5, read = 30 }

[[workers]]
name = "alpha"
threads = 4

[[workers]]
name = "beta"
threads = 2
labels = ["slow"]
"""

OVERRIDE = """
ratio = 0.5
[server]
host = "0.0.0.0"
[server.tls]
enabled = false
"""


def merge(base, override):
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = value
    return result


config = tomllib.loads(BASE)
print(config["title"], config["version"], config["released"], type(config["released"]).__name__, config["tags"])
print(config["server"], [w["name"] for w in config["workers"]], sum(w["threads"] for w in config["workers"]))
merged = merge(config, tomllib.loads(OVERRIDE))
print(merged["ratio"], merged["server"]["host"], merged["server"]["tls"], merged["server"]["ports"])
print(sorted(merged), merged["workers"][1].get("labels", []))
for bad in ['x = ', 'a = 1\na = 2', '[table\nkey = 1', 'k = "unterminated']:
    try:
        tomllib.loads(bad)
    except tomllib.TOMLDecodeError as error:
        print("TOMLDecodeError:", str(error))
print(tomllib.loads('n = 0x_ff' if False else 'n = 0xff\nb = 0b101\no = 0o17\ninf = inf'))
tomllib.loads("key = value")
