"""str methods in bulk: splitting, joining, stripping, case, search, translate, partition, predicates, unicode."""

text = "  The Quick, brown FOX; jumps over the lazy dog.  "
print(text.strip(), "|", text.lstrip()[:5], "|", text.rstrip()[-5:])
print(text.split(), text.split(",", 1), text.strip().rsplit(" ", 2), "a,,b".split(","), "".split(","))
print(text.lower().count("o"), text.upper().find("FOX"), text.title().strip(), text.casefold() == text.lower())
print("-".join(["a", "b", "c"]), "".join(reversed("abc")), ", ".join(str(i) for i in range(3)))
print("key=value=more".partition("="), "no-sep".partition("="), "a/b/c".rpartition("/"))
table = str.maketrans({"a": "4", "e": "3", "o": None}) 
print("hello there amigo".translate(table), "abc".translate(str.maketrans("abc", "xyz")))
print("hello world".replace("o", "0", 1), "aaa".replace("a", "bb"), "tab\tsep".expandtabs(2))
print("Hello".startswith(("He", "X")), "file.tar.gz".endswith(".gz"), "abc".startswith("b", 1))
print("abc123".isalnum(), "abc".isalpha(), "123".isdigit(), "½".isnumeric(), "   ".isspace(), "Title Case".istitle())
print("snake_case_name".split("_"), "CamelCaseName".swapcase(), "x".center(5, "*"), "7".rjust(3, "0"), "ab".ljust(4) + "|")
print("line1\nline2\r\nline3".splitlines(), "line1\nline2\n".splitlines(keepends=True))
print("%s" % "percent", "{:^7}".format("mid"), "Ünïcödé".encode("ascii", "replace"), "ß".upper(), "ǅ".lower())
print(ord("€"), chr(8364), "naïve".encode(), len("👍"), "👍".encode("utf-8"), "\u00e9" == "é", "e\u0301" == "é")
print("mississippi".index("ss"), "mississippi".rindex("ss"), "mississippi".count("ss"), "mi" in "mississippi")
print(min("hello"), max("hello"), sorted("hello"), list("hi"), "ab" * 3, "abc" < "abd", "Z" < "a")
words = "the rain in spain stays mainly in the plain".split()
print(sorted(set(words)), max(words, key=len), [w for w in words if "ain" in w], " ".join(w.capitalize() for w in words[:3]))
print("a b  c".split(" "), " a b ".split(), "x".join("123"), "".join([]), str(123).zfill(5), "{!r}".format("q"))
print("removeprefix".removeprefix("remove"), "suffix.py".removesuffix(".py"), "abc".removeprefix("z"))
print("%-5s|%5s|%.2s" % ("ab", "cd", "efgh"), f"{'nested':>{3 + 5}}", "x{}y".format(1.5))


def caesar(text, shift):
    table = str.maketrans(
        "abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz"[shift:] + "abcdefghijklmnopqrstuvwxyz"[:shift])
    return text.translate(table)


secret = caesar("attack at dawn", 3)
print(secret, caesar(secret, 23), secret.encode("rot13") if False else "", "rot13 via codecs:",
      __import__("codecs").encode("attack", "rot13"))
print("|".join(part.strip().title() for part in " alpha ; beta ;gamma ".split(";")))
"abc".index("d")
