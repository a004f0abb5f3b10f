"""A hand-written JSON parser and serializer, checked against the json module on a nested document."""

import json


class ParseError(ValueError):
    def __init__(self, message, position):
        super().__init__(f"{message} at position {position}")
        self.position = position


class Parser:
    ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}

    def __init__(self, text):
        self.text, self.i = text, 0

    def skip(self):
        while self.i < len(self.text) and self.text[self.i] in " \t\r\n":
            self.i += 1

    def expect(self, literal):
        if not self.text.startswith(literal, self.i):
            raise ParseError(f"expected {literal!r}", self.i)
        self.i += len(literal)

    def parse(self):
        value = self.value()
        self.skip()
        if self.i != len(self.text):
            raise ParseError("trailing data", self.i)
        return value

    def value(self):
        self.skip()
        if self.i >= len(self.text):
            raise ParseError("unexpected end", self.i)
        ch = self.text[self.i]
        if ch == "{":
            return self.object()
        if ch == "[":
            return self.array()
        if ch == '"':
            return self.string()
        for literal, result in (("true", True), ("false", False), ("null", None)):
            if self.text.startswith(literal, self.i):
                self.i += len(literal)
                return result
        return self.number()

    def object(self):
        self.expect("{")
        result = {}
        self.skip()
        if self.text[self.i] == "}":
            self.i += 1
            return result
        while True:
            self.skip()
            key = self.string()
            self.skip()
            self.expect(":")
            result[key] = self.value()
            self.skip()
            if self.text[self.i] == "}":
                self.i += 1
                return result
            self.expect(",")

    def array(self):
        self.expect("[")
        result = []
        self.skip()
        if self.text[self.i] == "]":
            self.i += 1
            return result
        while True:
            result.append(self.value())
            self.skip()
            if self.text[self.i] == "]":
                self.i += 1
                return result
            self.expect(",")

    def string(self):
        self.expect('"')
        out = []
        while True:
            ch = self.text[self.i]
            self.i += 1
            if ch == '"':
                return "".join(out)
            if ch == "\\":
                code = self.text[self.i]
                self.i += 1
                if code == "u":
                    out.append(chr(int(self.text[self.i:self.i + 4], 16)))
                    self.i += 4
                else:
                    out.append(self.ESCAPES[code])
            else:
                out.append(ch)

    def number(self):
        start = self.i
        while self.i < len(self.text) and self.text[self.i] in "+-0123456789.eE":
            self.i += 1
        token = self.text[start:self.i]
        if not token:
            raise ParseError(f"unexpected character {self.text[start]!r}", start)
        return float(token) if any(c in token for c in ".eE") else int(token)


def dump(value):
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + "".join({'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t"}.get(c, c) for c in value) + '"'
    if isinstance(value, list):
        return "[" + ",".join(dump(v) for v in value) + "]"
    return "{" + ",".join(f"{dump(k)}:{dump(v)}" for k, v in value.items()) + "}"


DOC = {"name": "dxpy", "version": [0, 1, 2], "ratio": -0.125, "big": 12345678901234567890, "ok": True,
       "none": None, "text": 'quote " and \\ backslash\nnewline\ttab', "unicode": "é☃",
       "nested": {"list": [{"a": 1}, [], {}, [[1.5e10]]], "empty": ""}}
text = json.dumps(DOC)
mine = Parser(text).parse()
print(mine == DOC, mine == json.loads(dump(DOC)), json.loads(dump(mine)) == DOC)
print(dump(mine["nested"]), Parser(' [1, 2 , {"k" : [true, false, null]} ] ').parse())
for bad in ['{"a" 1}', "[1, 2", "nul", '{"a": 1} x', "@"]:
    try:
        Parser(bad).parse()
    except (ParseError, IndexError) as error:
        print(type(error).__name__, error)
print(len(text), sum(1 for c in text if c in "{["))
Parser('"\\q"').parse()
