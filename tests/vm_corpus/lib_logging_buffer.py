"""logging configured into a StringIO: levels, formatters, filters, child loggers, adapters and exception logging."""

import io
import logging

stream = io.StringIO()
handler = logging.StreamHandler(stream)
handler.setFormatter(logging.Formatter("%(levelname)-7s %(name)s: %(message)s"))


class OnlyEven(logging.Filter):
    def filter(self, record):
        return getattr(record, "n", 0) % 2 == 0


root = logging.getLogger("corpus")
root.handlers[:] = [handler]
root.setLevel(logging.DEBUG)
root.propagate = False
db = root.getChild("db")
db.setLevel(logging.WARNING)

root.debug("starting %s with %d workers", "service", 4)
root.info("ready")
db.info("hidden: below WARNING")
db.warning("slow query took %.1f s", 2.345)
try:
    {}["missing"]
except KeyError:
    root.exception("lookup failed")
even = logging.getLogger("corpus.even")
even.addFilter(OnlyEven())
for n in range(4):
    even.info("number %d", n, extra={"n": n})
adapter = logging.LoggerAdapter(root, {"request": "r-17"})
adapter.error("with context %s", adapter.extra["request"])
root.log(logging.CRITICAL, "critical via log()")
print(root.isEnabledFor(logging.DEBUG), db.isEnabledFor(logging.INFO), db.getEffectiveLevel(), logging.getLevelName(30))
lines = stream.getvalue().splitlines()
for line in lines:
    if line.startswith("Traceback") or line.startswith("  "):
        continue
    print(line)
print(len(lines) > 8, any("KeyError: 'missing'" in line for line in lines))
logging.getLogger("corpus").handlers.clear()
record = logging.makeLogRecord({"msg": "made %s", "args": ("by hand",), "levelno": 20, "levelname": "INFO"})
print(record.getMessage(), logging.Formatter("%(message)s|%(levelname)s").format(record))
print(logging.Formatter("%(message)s").format(logging.makeLogRecord({"msg": "%d", "args": ("not a number",)})))
