"""try/finally semantics: return overriding, break/continue in finally, nested handlers, re-raise, exception state."""

import sys


def finally_overrides_return():
    try:
        return "try"
    finally:
        return "finally"


def finally_swallows_exception():
    try:
        raise ValueError("lost")
    finally:
        return "swallowed"


def break_in_finally():
    result = []
    for i in range(5):
        try:
            if i == 2:
                raise KeyError(i)
            result.append(i)
        finally:
            if i == 2:
                break
    return result


def continue_in_finally():
    seen = []
    for i in range(4):
        try:
            if i % 2:
                raise IndexError(i)
            seen.append(i)
        finally:
            continue
    return seen


def order_of_cleanup(log):
    try:
        try:
            log.append("inner body")
            raise TypeError("inner")
        except TypeError:
            log.append("inner handler")
            raise ValueError("from handler")
        finally:
            log.append("inner finally")
    except ValueError as error:
        log.append(f"outer handler: {error} (context {type(error.__context__).__name__})")
    else:
        log.append("outer else")
    finally:
        log.append("outer finally")
    return log


def exc_info_inside():
    states = []
    try:
        raise OSError("disk")
    except OSError:
        states.append(sys.exc_info()[0].__name__)
        try:
            raise KeyError("nested")
        except KeyError:
            states.append(sys.exc_info()[0].__name__)
        states.append(sys.exc_info()[0].__name__)
    states.append(sys.exc_info()[0])
    return states


def reraise_bare():
    try:
        int("x")
    except ValueError:
        try:
            raise
        except ValueError as again:
            return f"re-raised: {again}"


def else_clause(fail):
    try:
        if fail:
            raise RuntimeError
    except RuntimeError:
        return "handled"
    else:
        return "no exception"
    finally:
        print("  finally runs for", fail)


print(finally_overrides_return(), finally_swallows_exception(), break_in_finally(), continue_in_finally())
print(order_of_cleanup([]))
print(exc_info_inside(), reraise_bare())
print(else_clause(True), else_clause(False))
counter = 0
while True:
    try:
        counter += 1
        if counter < 3:
            continue
        break
    finally:
        print("  loop finally", counter)
try:
    try:
        raise LookupError("original")
    finally:
        print("  finally sees", sys.exc_info()[0].__name__)
except LookupError as error:
    print("propagated:", error)


def raise_in_finally():
    try:
        raise ValueError("first")
    finally:
        raise TypeError("second replaces first")


raise_in_finally()
