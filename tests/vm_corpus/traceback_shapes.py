"""Uncaught exception deep in generators and with blocks: traceback lines must match."""


class Guard:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def produce(n):
    for i in range(n):
        if i == 2:
            raise LookupError(f"bad item {i}")
        yield i


def consume():
    total = 0
    with Guard():
        for value in produce(5):
            total += value
    return total


def run():
    try:
        return consume()
    finally:
        print("finally ran")


run()
