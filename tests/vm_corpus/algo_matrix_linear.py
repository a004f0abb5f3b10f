"""Linear algebra with exact fractions: Gaussian elimination, determinant, inverse, matrix power for Fibonacci."""

from fractions import Fraction


class Matrix:
    def __init__(self, rows):
        self.rows = [list(map(Fraction, row)) for row in rows]
        self.n, self.m = len(self.rows), len(self.rows[0])

    @classmethod
    def identity(cls, n):
        return cls([[1 if i == j else 0 for j in range(n)] for i in range(n)])

    def __matmul__(self, other):
        if self.m != other.n:
            raise ValueError(f"shape mismatch {self.n}x{self.m} @ {other.n}x{other.m}")
        cols = list(zip(*other.rows))
        return Matrix([[sum(a * b for a, b in zip(row, col)) for col in cols] for row in self.rows])

    def __pow__(self, k):
        result, base = Matrix.identity(self.n), self
        while k:
            if k & 1:
                result = result @ base
            base = base @ base
            k >>= 1
        return result

    def __eq__(self, other):
        return self.rows == other.rows

    def determinant(self):
        a = [row[:] for row in self.rows]
        det = Fraction(1)
        for col in range(self.n):
            pivot = next((r for r in range(col, self.n) if a[r][col] != 0), None)
            if pivot is None:
                return Fraction(0)
            if pivot != col:
                a[col], a[pivot] = a[pivot], a[col]
                det = -det
            det *= a[col][col]
            for r in range(col + 1, self.n):
                factor = a[r][col] / a[col][col]
                a[r] = [x - factor * y for x, y in zip(a[r], a[col])]
        return det

    def inverse(self):
        n = self.n
        a = [row[:] + [Fraction(int(i == j)) for j in range(n)] for i, row in enumerate(self.rows)]
        for col in range(n):
            pivot = next((r for r in range(col, n) if a[r][col] != 0), None)
            if pivot is None:
                raise ZeroDivisionError("matrix is singular")
            a[col], a[pivot] = a[pivot], a[col]
            lead = a[col][col]
            a[col] = [x / lead for x in a[col]]
            for r in range(n):
                if r != col and a[r][col] != 0:
                    factor = a[r][col]
                    a[r] = [x - factor * y for x, y in zip(a[r], a[col])]
        return Matrix([row[n:] for row in a])

    def __str__(self):
        return "\n".join("  ".join(f"{str(x):>6}" for x in row) for row in self.rows)


def solve(coefficients, constants):
    inverse = Matrix(coefficients).inverse()
    return [row[0] for row in (inverse @ Matrix([[c] for c in constants])).rows]


A = Matrix([[2, 1, 1], [1, 3, 2], [1, 0, 0]])
print(A.determinant())
print(A.inverse())
print(A @ A.inverse() == Matrix.identity(3))
print(solve([[2, 1, -1], [-3, -1, 2], [-2, 1, 2]], [8, -11, -3]))
fib = Matrix([[1, 1], [1, 0]]) ** 90
print("fib(90) =", fib.rows[0][1])
hilbert = Matrix([[Fraction(1, i + j + 1) for j in range(4)] for i in range(4)])
print("hilbert det", hilbert.determinant(), "inverse corner", hilbert.inverse().rows[3][3])
try:
    A @ Matrix([[1, 2]])
except ValueError as error:
    print("ValueError:", error)
Matrix([[1, 2], [2, 4]]).inverse()
