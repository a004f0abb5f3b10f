"""csv and io: parse a CSV with quoting, aggregate with DictReader, write with DictWriter, dialects and sniffing."""

import csv
import io
from collections import defaultdict

RAW = '''region,product,units,price,notes
north,widget,12,2.50,"plain"
south,gadget,3,10.00,"has, comma"
north,gadget,7,10.00,"quoted ""word"""
east,widget,20,2.25,
south,widget,5,2.50,"multi
line"
'''

rows = list(csv.DictReader(io.StringIO(RAW)))
print(len(rows), rows[1]["notes"], repr(rows[2]["notes"]), repr(rows[4]["notes"]))
totals = defaultdict(float)
units = defaultdict(int)
for row in rows:
    totals[row["region"]] += int(row["units"]) * float(row["price"])
    units[row["product"]] += int(row["units"])
for region in sorted(totals):
    print(f"{region:<6}{totals[region]:>8.2f}")
print(dict(units))

out = io.StringIO()
writer = csv.DictWriter(out, fieldnames=["region", "revenue", "share"], lineterminator="\n")
writer.writeheader()
grand = sum(totals.values())
for region, value in sorted(totals.items(), key=lambda kv: -kv[1]):
    writer.writerow({"region": region, "revenue": f"{value:.2f}", "share": f"{value / grand:.1%}"})
print(out.getvalue())

semi = io.StringIO()
csv.writer(semi, delimiter=";", quoting=csv.QUOTE_NONNUMERIC, lineterminator="|").writerows([["a", 1, 2.5], ["b;c", -1, 0]])
print(semi.getvalue())
print(list(csv.reader(io.StringIO(semi.getvalue().replace("|", "\n")), delimiter=";", quoting=csv.QUOTE_NONNUMERIC)))
dialect = csv.Sniffer().sniff("x\ty\tz\n1\t2\t3\n")
print(repr(dialect.delimiter), csv.Sniffer().has_header(RAW))
csv.register_dialect("pipes", delimiter="|", quoting=csv.QUOTE_MINIMAL)
print(list(csv.reader(["a|b|'c'", "1|2|3"], dialect="pipes")), csv.list_dialects()[-1:] if False else "pipes" in csv.list_dialects())
text = io.StringIO()
text.write("line one\nline two\n")
text.seek(0)
print(text.readline().strip(), text.read().strip(), text.tell())
strict = csv.reader(io.StringIO('a,"b\n'), strict=True)
list(strict)
