"""return/break/continue through finally, and finally overriding them."""


def override():
    try:
        return "try"
    finally:
        return "finally"


def swallow():
    for _ in range(1):
        try:
            raise ValueError("lost")
        finally:
            break
    return "swallowed"


def count():
    log = []
    for i in range(6):
        try:
            try:
                if i % 2:
                    continue
                if i == 4:
                    break
                log.append(i)
            finally:
                log.append(f"inner{i}")
        finally:
            log.append(f"outer{i}")
    return log


def while_loop():
    n = 0
    log = []
    while True:
        n += 1
        try:
            if n == 3:
                return log
            log.append(n)
        finally:
            log.append("f")


def return_value_evaluated_first():
    x = 1
    try:
        return x
    finally:
        x = 2
        print("x changed to", x)


def nested_return():
    try:
        try:
            return "inner"
        finally:
            print("first finally")
    finally:
        print("second finally")


def handler_return():
    try:
        raise KeyError
    except KeyError:
        try:
            return "from handler"
        finally:
            print("finally in handler")


def exception_in_else():
    try:
        pass
    except ValueError:
        print("not here")
    else:
        raise ValueError("else raised")
    finally:
        print("finally after else")


print(override(), swallow(), count(), while_loop())
print(return_value_evaluated_first(), nested_return(), handler_return())
try:
    exception_in_else()
except ValueError as e:
    print("caught", e)


def gen_in_loop():
    for ch in "abc":
        try:
            yield ch
        finally:
            print("cleanup", ch)


for c in gen_in_loop():
    if c == "b":
        break
print("done")
