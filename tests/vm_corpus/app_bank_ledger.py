"""A double-entry ledger: accounts, journal postings, balance checks, interest, statements and overdraft errors."""

from collections import defaultdict
from fractions import Fraction


class InsufficientFunds(Exception):
    pass


class Account:
    kinds = {"asset": 1, "expense": 1, "liability": -1, "income": -1, "equity": -1}

    def __init__(self, name, kind, overdraft=0):
        if kind not in self.kinds:
            raise ValueError(f"unknown account kind {kind!r}")
        self.name, self.kind, self.overdraft = name, kind, overdraft
        self.postings = []

    @property
    def balance(self):
        return sum(amount for _, amount, _ in self.postings) * self.kinds[self.kind]

    def __repr__(self):
        return f"<{self.kind} {self.name}: {self.balance}>"


class Ledger:
    def __init__(self):
        self.accounts = {}
        self.journal = []

    def open(self, name, kind, overdraft=0):
        self.accounts[name] = Account(name, kind, overdraft)
        return self.accounts[name]

    def post(self, memo, *entries):
        if sum(amount for _, amount in entries) != 0:
            raise ValueError(f"unbalanced entry {memo!r}: {entries}")
        for name, amount in entries:
            account = self.accounts[name]
            if account.kind == "asset" and account.balance + amount < -account.overdraft:
                raise InsufficientFunds(f"{name} would drop to {account.balance + amount}")
        number = len(self.journal) + 1
        for name, amount in entries:
            self.accounts[name].postings.append((number, amount, memo))
        self.journal.append((number, memo, entries))
        return number

    def trial_balance(self):
        totals = defaultdict(int)
        for account in self.accounts.values():
            totals[account.kinds[account.kind]] += account.balance * account.kinds[account.kind]
        return dict(totals), sum(totals.values()) == 0

    def statement(self, name):
        running = 0
        lines = []
        account = self.accounts[name]
        for number, amount, memo in account.postings:
            running += amount * account.kinds[account.kind]
            lines.append(f"{number:>3} {memo:<18}{amount:>8}{running:>9}")
        return "\n".join(lines)


ledger = Ledger()
ledger.open("cash", "asset", overdraft=100)
ledger.open("bank", "asset")
ledger.open("loan", "liability")
ledger.open("capital", "equity")
ledger.open("sales", "income")
ledger.open("rent", "expense")
ledger.post("owner investment", ("bank", 5000), ("capital", -5000))
ledger.post("loan received", ("bank", 2000), ("loan", -2000))
ledger.post("cash withdrawal", ("cash", 300), ("bank", -300))
for month in range(1, 4):
    ledger.post(f"sales month {month}", ("bank", 1200 + 100 * month), ("sales", -(1200 + 100 * month)))
    ledger.post(f"rent month {month}", ("rent", 900), ("bank", -900))
rate = Fraction(1, 100)
interest = int(ledger.accounts["loan"].balance * rate)
ledger.post("loan interest", ("rent", interest), ("bank", -interest))
print(ledger.statement("bank"))
print(sorted(ledger.accounts.values(), key=lambda a: a.name))
print(ledger.trial_balance())
try:
    ledger.post("too much cash", ("rent", 500), ("cash", -500))
except InsufficientFunds as error:
    print("InsufficientFunds:", error)
try:
    ledger.open("misc", "magic")
except ValueError as error:
    print("ValueError:", error)
ledger.post("typo", ("cash", 10), ("bank", -1))
