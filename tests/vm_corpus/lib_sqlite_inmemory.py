"""sqlite3 in memory: schema, parameterised inserts, joins, aggregates, user functions, transactions and errors."""

import sqlite3

db = sqlite3.connect(":memory:")
db.row_factory = sqlite3.Row
db.executescript("""
CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors(id), title TEXT, year INTEGER,
                    pages INTEGER);
""")
authors = [("Ursula K. Le Guin",), ("Terry Pratchett",), ("Iain M. Banks",)]
db.executemany("INSERT INTO authors (name) VALUES (?)", authors)
books = [(1, "A Wizard of Earthsea", 1968, 183), (1, "The Dispossessed", 1974, 387), (2, "Mort", 1987, 272),
         (2, "Small Gods", 1992, 284), (2, "Night Watch", 2002, 400), (3, "Excession", 1996, 451)]
db.executemany("INSERT INTO books (author_id, title, year, pages) VALUES (?, ?, ?, ?)", books)
db.commit()

for row in db.execute("""SELECT a.name, COUNT(*) AS n, SUM(b.pages) AS pages, MIN(b.year) AS first
                         FROM books b JOIN authors a ON a.id = b.author_id GROUP BY a.id ORDER BY n DESC, a.name"""):
    print(dict(row))
db.create_function("initials", 1, lambda name: "".join(part[0] for part in name.replace(".", "").split()))
print([tuple(r) for r in db.execute("SELECT initials(name), length(name) FROM authors ORDER BY id")])
decade = db.execute("SELECT year / 10 * 10 AS decade, COUNT(*) FROM books GROUP BY decade ORDER BY decade").fetchall()
print([tuple(r) for r in decade])
cursor = db.execute("SELECT title FROM books WHERE year > :after AND pages < :limit ORDER BY year",
                    {"after": 1980, "limit": 420})
print([r["title"] for r in cursor], cursor.description[0][0])
try:
    with db:
        db.execute("INSERT INTO authors (name) VALUES ('Temporary Author')")
        db.execute("INSERT INTO authors (name) VALUES ('Terry Pratchett')")
except sqlite3.IntegrityError as error:
    print("IntegrityError:", error)
print(db.execute("SELECT COUNT(*) FROM authors").fetchone()[0], "authors after rollback")
db.execute("UPDATE books SET pages = pages + 1 WHERE author_id = ?", (2,))
print(db.total_changes, db.execute("SELECT SUM(pages) FROM books").fetchone()[0])


class Median:
    def __init__(self):
        self.values = []

    def step(self, value):
        self.values.append(value)

    def finalize(self):
        ordered = sorted(self.values)
        return ordered[len(ordered) // 2]


db.create_aggregate("median", 1, Median)
print(db.execute("SELECT median(pages) FROM books").fetchone()[0])
print(sqlite3.sqlite_version_info >= (3, 0, 0), db.execute("SELECT typeof(1.5), typeof('x'), 7 % 3").fetchone()[:])
db.execute("SELECT * FROM missing_table")
