"""Mandelbrot set: complex arithmetic escape times rendered as ASCII, plus a Julia set checksum."""


def escape_time(c, limit):
    z = 0j
    for n in range(limit):
        z = z * z + c
        if z.real * z.real + z.imag * z.imag > 4.0:
            return n
    return limit


def render(width, height, limit, x_range=(-2.2, 0.8), y_range=(-1.2, 1.2)):
    (x0, x1), (y0, y1) = x_range, y_range
    palette = " .:-=+*#%@"
    rows = []
    for j in range(height):
        y = y1 - (y1 - y0) * j / (height - 1)
        row = []
        for i in range(width):
            x = x0 + (x1 - x0) * i / (width - 1)
            n = escape_time(complex(x, y), limit)
            row.append(palette[(n * (len(palette) - 1)) // limit])
        rows.append("".join(row))
    return rows


def julia_checksum(c, size, limit):
    total = 0
    for j in range(size):
        for i in range(size):
            z = complex(-1.5 + 3.0 * i / size, -1.5 + 3.0 * j / size)
            n = 0
            while abs(z) <= 2 and n < limit:
                z = z * z + c
                n += 1
            total += n * (i + 1) ^ j
    return total


for line in render(40, 13, 24):
    print(line.rstrip())
print("julia", julia_checksum(complex(-0.8, 0.156), 14, 20))
print("inside", sum(escape_time(complex(x / 10, 0), 30) == 30 for x in range(-20, 5)))
