"""String processing: parsing key=value config, word wrap, caesar cipher, run-length encoding, regex."""
import re
import textwrap

CONFIG = """
# settings
name = dxpy
threads = 4
ratio=0.75
bad line
debug = yes
"""


def parse(text):
    result, errors = {}, []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            key, value = (part.strip() for part in line.split("=", 1))
        except ValueError:
            errors.append(f"line {number}: {line!r}")
            continue
        for convert in (int, float):
            try:
                value = convert(value)
                break
            except ValueError:
                pass
        result[key] = value
    return result, errors


def caesar(text, shift):
    def rotate(ch):
        if not ch.isalpha():
            return ch
        base = ord("a") if ch.islower() else ord("A")
        return chr((ord(ch) - base + shift) % 26 + base)
    return "".join(rotate(ch) for ch in text)


def rle(text):
    out = []
    for ch in text:
        if out and out[-1][0] == ch:
            out[-1][1] += 1
        else:
            out.append([ch, 1])
    return "".join(f"{n}{ch}" for ch, n in out)


def unrle(code):
    return "".join(ch * int(n) for n, ch in re.findall(r"(\d+)(\D)", code))


print(parse(CONFIG))
secret = caesar("Hello, World!", 3)
print(secret, caesar(secret, -3))
print(rle("aaabccddddd"), unrle(rle("aaabccddddd")) == "aaabccddddd")
print(textwrap.fill("the quick brown fox jumps over the lazy dog " * 2, width=30))
print(re.sub(r"(\w+)@(\w+)\.com", lambda m: f"{m.group(2)}:{m.group(1)}", "mail bob@example.com now"))
words = "It was the best of times it was the worst of times".lower().split()
print(sorted({w: words.count(w) for w in words}.items(), key=lambda kv: (-kv[1], kv[0]))[:3])
print(" ".join(w.capitalize() for w in words[:4]), "|".join(reversed(words[-3:])), f"{len(words):>5}|{'x':^5}|")
