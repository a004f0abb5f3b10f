"""Regex-heavy text processing: parse a web server log, aggregate, rewrite and validate."""

import re
from collections import Counter, defaultdict

LOG = """\
10.0.0.1 - alice [12/Mar/2024:10:00:01 +0000] "GET /index.html HTTP/1.1" 200 512 "-" "Mozilla/5.0"
10.0.0.2 - - [12/Mar/2024:10:00:03 +0000] "POST /api/login HTTP/1.1" 401 64 "-" "curl/8.0"
10.0.0.1 - alice [12/Mar/2024:10:01:10 +0000] "GET /img/logo.png HTTP/1.1" 304 0 "/index.html" "Mozilla/5.0"
192.168.1.7 - bob [12/Mar/2024:10:02:00 +0000] "GET /api/items?page=2&size=10 HTTP/1.1" 200 2048 "-" "python-requests/2.31"
10.0.0.2 - - [12/Mar/2024:10:02:05 +0000] "POST /api/login HTTP/1.1" 200 128 "-" "curl/8.0"
10.0.0.9 - - [12/Mar/2024:10:03:44 +0000] "DELETE /api/items/17 HTTP/1.1" 403 32 "-" "curl/8.0"
bogus line that does not parse
192.168.1.7 - bob [12/Mar/2024:10:04:00 +0000] "GET /api/items?page=3&size=10 HTTP/1.1" 500 17 "-" "python-requests/2.31"
"""

LINE = re.compile(
    r'(?P<ip>\d{1,3}(?:\.\d{1,3}){3}) - (?P<user>\S+) \[(?P<day>\d{2})/(?P<month>\w{3})/(?P<year>\d{4})'
    r':(?P<time>[\d:]+) [+-]\d{4}\] "(?P<method>[A-Z]+) (?P<path>[^ ?"]+)(?:\?(?P<query>[^ "]*))? HTTP/[\d.]+" '
    r'(?P<status>\d{3}) (?P<size>\d+) "(?P<referer>[^"]*)" "(?P<agent>[^"]*)"')

records, rejected = [], []
for number, line in enumerate(LOG.splitlines(), 1):
    match = LINE.fullmatch(line)
    if match is None:
        rejected.append(number)
        continue
    record = match.groupdict()
    record["status"] = int(record["status"])
    record["size"] = int(record["size"])
    record["params"] = dict(re.findall(r"(\w+)=(\w+)", record["query"] or ""))
    records.append(record)

print(f"{len(records)} parsed, rejected lines {rejected}")
by_status = Counter(r["status"] // 100 * 100 for r in records)
print("by status class:", sorted(by_status.items()))
bytes_by_ip = defaultdict(int)
for r in records:
    bytes_by_ip[r["ip"]] += r["size"]
for ip, total in sorted(bytes_by_ip.items(), key=lambda kv: (-kv[1], kv[0])):
    print(f"  {ip:<15} {total:>6}")
print("agents:", sorted({re.split(r"[/ ]", r["agent"])[0] for r in records}))
print("paged queries:", [(r["path"], r["params"]) for r in records if "page" in r["params"]])

# Rewriting with a function replacement and backreferences.
anonymised = re.sub(r"\b(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}\b", lambda m: f"{m[1]}.{m[2]}.x.x", LOG)
print(anonymised.splitlines()[3][:40])
dates = re.sub(r"\[(\d{2})/(\w{3})/(\d{4})", r"[\3-\2-\1", LOG.splitlines()[0])
print(dates[:45])

# Validation patterns with flags, lookarounds and named groups.
EMAIL = re.compile(r"^[\w.+-]+@(?P<domain>[\w-]+(?:\.[\w-]+)+)$", re.IGNORECASE)
for candidate in ["a.b+c@example.com", "bad@", "x@y", "UPPER@Example.ORG", "sp ace@x.io"]:
    m = EMAIL.match(candidate)
    print(f"{candidate!r:24} {'ok ' + m.group('domain').lower() if m else 'invalid'}")
PASSWORD = re.compile(r"^(?=.*\d)(?=.*[a-z])(?=.*[A-Z])(?!.*\s).{8,}$")
print([bool(PASSWORD.match(p)) for p in ["Passw0rd", "password1", "Sh0rt", "With Space1A", "GoodOne42"]])
words = re.findall(r"(?<![\w-])[a-z]+(?:-[a-z]+)*(?![\w-])", "well-known, state-of-the-art and plain words; X-ray")
print(words)
tokens = [(m.lastgroup, m.group()) for m in re.finditer(r"(?P<num>\d+(?:\.\d+)?)|(?P<op>[-+*/()])|(?P<name>[a-z_]\w*)",
                                                       "rate*(1.5+ x_2)-40/y")]
print(tokens)
print(re.split(r"\s*[,;]\s*", "a , b;c ;  d,e"), re.subn(r"o", "0", "foo boo"))
print(re.escape("1+1=2?"), re.compile(r"(a)(b)?").match("a").groups(), re.search(r"z", "abc"))
