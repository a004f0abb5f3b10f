"""html.parser and xml: extracting links and text, building and querying an ElementTree, escaping."""

import html
from html.parser import HTMLParser
import xml.etree.ElementTree as ET

PAGE = """<!DOCTYPE html>
<html><head><title>Corpus &amp; Tests</title></head>
<body>
  <h1 class="title">Differential <em>testing</em></h1>
  <p>See <a href="/docs/dpb-format.md">the format</a> and <a href="https://example.com/?q=1&amp;r=2">examples</a>.</p>
  <ul><li>one</li><li>two<br>lines</li></ul>
  <img src="logo.png" alt="logo"/>
  <!-- a comment -->
</body></html>
"""


class Extractor(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.text, self.stack, self.counts = [], [], [], {}
        self.comments = []

    def handle_starttag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        attributes = dict(attrs)
        if tag == "a":
            self.links.append(attributes.get("href"))
        if tag not in ("br", "img"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data):
        if data.strip():
            self.text.append((self.stack[-1] if self.stack else None, data.strip()))

    def handle_comment(self, data):
        self.comments.append(data.strip())


extractor = Extractor()
extractor.feed(PAGE)
extractor.close()
print(extractor.links)
print(extractor.text)
print(sorted(extractor.counts.items()), extractor.comments, extractor.stack)
print(html.escape('<a href="x">&</a>'), html.unescape("&lt;&#65;&#x42;&hearts;&gt;"))

root = ET.Element("library")
for title, year, tags in [("Dune", 1965, ["sf"]), ("Emma", 1815, ["classic", "romance"]), ("Neuromancer", 1984, ["sf", "cyber"])]:
    book = ET.SubElement(root, "book", year=str(year))
    ET.SubElement(book, "title").text = title
    for tag in tags:
        ET.SubElement(book, "tag").text = tag
print(ET.tostring(root, encoding="unicode")[:80])
print([b.find("title").text for b in root.findall("book") if int(b.get("year")) > 1900])
print([b.findtext("title") for b in root.iterfind(".//book[tag='sf']")], len(list(root.iter("tag"))))
parsed = ET.fromstring(ET.tostring(root))
parsed[1].set("year", "1816")
parsed.remove(parsed[0])
print([(b.findtext("title"), b.get("year")) for b in parsed], parsed.attrib, parsed.tag)
ET.fromstring("<unclosed><tag></unclosed>")
