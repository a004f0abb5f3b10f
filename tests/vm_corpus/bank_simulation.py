"""A bank ledger: custom exception hierarchy, transactions rolled back with try/except/else/finally."""


class BankError(Exception):
    pass


class InsufficientFunds(BankError):
    def __init__(self, account, amount):
        super().__init__(f"{account.owner} cannot withdraw {amount}: balance {account.balance}")
        self.account = account


class AccountFrozen(BankError):
    pass


class Account:
    def __init__(self, owner, balance=0):
        self.owner, self.balance, self.frozen = owner, balance, False

    def withdraw(self, amount):
        if self.frozen:
            raise AccountFrozen(self.owner)
        if amount > self.balance:
            raise InsufficientFunds(self, amount)
        self.balance -= amount

    def deposit(self, amount):
        if amount <= 0:
            raise ValueError(f"invalid amount {amount}")
        self.balance += amount


class Ledger:
    def __init__(self):
        self.entries = []
        self.failures = 0

    def transfer(self, source, target, amount):
        snapshot = (source.balance, target.balance)
        try:
            source.withdraw(amount)
            target.deposit(amount)
        except BankError as e:
            self.failures += 1
            self.entries.append(f"FAILED: {e}")
            return False
        except ValueError as e:
            source.balance, target.balance = snapshot
            self.entries.append(f"ROLLBACK: {e}")
            raise BankError("transfer aborted") from e
        else:
            self.entries.append(f"{source.owner} -> {target.owner}: {amount}")
            return True
        finally:
            self.entries.append(f"  balances {source.owner}={source.balance} {target.owner}={target.balance}")


alice, bob = Account("alice", 100), Account("bob", 20)
ledger = Ledger()
print(ledger.transfer(alice, bob, 30), ledger.transfer(bob, alice, 500))
bob.frozen = True
print(ledger.transfer(bob, alice, 1))
try:
    ledger.transfer(alice, bob, 0)
except BankError as e:
    print(e, "caused by", repr(e.__cause__))
print("\n".join(ledger.entries))
print(alice.balance, bob.balance, ledger.failures)
