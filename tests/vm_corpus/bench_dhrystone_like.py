"""A Dhrystone-shaped integer benchmark: records passed by reference, enumerations, string compares, arrays.

Not the original program: the same kinds of work (procedure calls with
record parameters, 1-D/2-D array updates, character and string tests)
arranged in a loop, with a checksum of the final state.
"""

from enum import IntEnum


class Ident(IntEnum):
    ONE = 1
    TWO = 2
    THREE = 3
    FOUR = 4
    FIVE = 5


class Record:
    __slots__ = ("next", "discr", "enum", "number", "text")

    def __init__(self, next=None, discr=Ident.ONE, enum=Ident.THREE, number=40, text="DHRYSTONE-LIKE, SOME STRING"):
        self.next, self.discr, self.enum, self.number, self.text = next, discr, enum, number, text

    def copy(self):
        return Record(self.next, self.discr, self.enum, self.number, self.text)


class State:
    def __init__(self):
        self.int_glob = 0
        self.bool_glob = False
        self.char1 = "\0"
        self.char2 = "\0"
        self.array1 = [0] * 51
        self.array2 = [[0] * 51 for _ in range(51)]
        self.record = Record(Record())


def proc_record(state, record):
    following = record.next
    state.record.number = record.number
    following.__init__(record.next, record.discr, record.enum, record.number, record.text)
    following.number = 5
    record.number = following.number
    if following.discr == Ident.ONE:
        following.number = 6
        following.enum = classify(record.enum, state)
        following.next = state.record.next
        following.number = add_seven(following.number, 10)
    else:
        record.__init__(*[getattr(following, f) for f in Record.__slots__])
    return record


def classify(value, state):
    if value == Ident.ONE:
        return Ident.ONE
    if value == Ident.TWO:
        return Ident.ONE if state.int_glob > 100 else Ident.FOUR
    return {Ident.THREE: Ident.TWO, Ident.FOUR: Ident.THREE}.get(value, Ident.FIVE)


def add_seven(a, b):
    return a + b + 7


def fill_arrays(state, value, index):
    loc = index + 5
    state.array1[loc] = value
    state.array1[loc + 1] = state.array1[loc]
    state.array1[loc + 30] = loc
    for i in range(loc, loc + 2):
        state.array2[loc][i] = loc
    state.array2[loc][loc - 1] += 1
    state.array2[loc + 20][loc] = state.array1[loc]
    state.int_glob = 5


def compare_chars(a, b):
    return Ident.ONE if a != b else Ident.TWO


def compare_strings(s1, s2, state):
    index = 2
    while index <= 2:
        if compare_chars(s1[index], s2[index + 1]) == Ident.ONE:
            state.char1 = "A"
            index += 1
    return s1 > s2


def run(loops):
    state = State()
    string1 = "DHRYSTONE PROGRAM, 1'ST STRING"
    checksum = 0
    for loop in range(loops):
        state.char1, state.char2, state.bool_glob = "A", "B", True
        int1, int2 = 2, 3
        string2 = "DHRYSTONE PROGRAM, 2'ND STRING"
        enum = Ident.TWO
        state.bool_glob = not compare_strings(string1, string2, state)
        while int1 < int2:
            int3 = 5 * int1 - int2
            int3 = add_seven(int1, int2)
            int1 += 1
        fill_arrays(state, int1, int3)
        proc_record(state, state.record)
        for char in "AB":
            if enum == compare_chars(char, "C"):
                enum = classify(Ident.ONE, state)
        int2 = int2 * int1
        int1 = int2 // int3
        int2 = 7 * (int2 - int3) - int1
        checksum = (checksum * 31 + int1 + int2 + state.int_glob + state.record.number + int(enum)) % 1_000_003
    return checksum, state.array1[8:12], state.array2[8][7:10], state.record.next.number, state.bool_glob


print(run(300))
print(classify(Ident.TWO, State()), classify(Ident.FIVE, State()).name, compare_chars("x", "x"))
