"""A tiny ray tracer: vectors with operator overloading, spheres, a plane, Lambert and shadows.

Renders an ASCII image of a small scene; every intersection and shading
step is plain float arithmetic, as in the classic raytrace benchmark.
"""

import math


class Vec:
    __slots__ = ("x", "y", "z")

    def __init__(self, x, y, z):
        self.x, self.y, self.z = x, y, z

    def __add__(self, other):
        return Vec(self.x + other.x, self.y + other.y, self.z + other.z)

    def __sub__(self, other):
        return Vec(self.x - other.x, self.y - other.y, self.z - other.z)

    def __mul__(self, k):
        return Vec(self.x * k, self.y * k, self.z * k)

    __rmul__ = __mul__

    def dot(self, other):
        return self.x * other.x + self.y * other.y + self.z * other.z

    def norm(self):
        return self * (1.0 / math.sqrt(self.dot(self)))

    def __repr__(self):
        return f"Vec({self.x:.2f}, {self.y:.2f}, {self.z:.2f})"


class Sphere:
    def __init__(self, center, radius, shade):
        self.center, self.radius, self.shade = center, radius, shade

    def hit(self, origin, direction):
        oc = origin - self.center
        b = oc.dot(direction)
        c = oc.dot(oc) - self.radius * self.radius
        disc = b * b - c
        if disc < 0:
            return None
        t = -b - math.sqrt(disc)
        return t if t > 1e-6 else None

    def normal(self, point):
        return (point - self.center).norm()


class Plane:
    def __init__(self, height, shade):
        self.height, self.shade = height, shade

    def hit(self, origin, direction):
        if abs(direction.y) < 1e-9:
            return None
        t = (self.height - origin.y) / direction.y
        return t if t > 1e-6 else None

    def normal(self, point):
        return Vec(0.0, 1.0, 0.0)


SCENE = [Sphere(Vec(0.0, 0.0, 5.0), 1.0, 1.0), Sphere(Vec(1.6, -0.4, 4.0), 0.6, 0.8),
         Sphere(Vec(-1.5, 0.2, 6.0), 0.9, 0.6), Plane(-1.0, 0.5)]
LIGHT = Vec(-3.0, 4.0, 0.0)


def trace(origin, direction):
    nearest, hit_object = None, None
    for thing in SCENE:
        t = thing.hit(origin, direction)
        if t is not None and (nearest is None or t < nearest):
            nearest, hit_object = t, thing
    if hit_object is None:
        return 0.0
    point = origin + direction * nearest
    normal = hit_object.normal(point)
    to_light = (LIGHT - point).norm()
    shadowed = any(thing.hit(point, to_light) is not None for thing in SCENE if thing is not hit_object)
    lambert = max(0.0, normal.dot(to_light))
    return hit_object.shade * (0.15 + (0.0 if shadowed else 0.85 * lambert))


def render(width, height):
    ramp = " .,:;ox%#@"
    eye = Vec(0.0, 0.0, 0.0)
    rows, total = [], 0.0
    for j in range(height):
        row = []
        for i in range(width):
            x = (i - width / 2) / (width / 2) * 1.2
            y = (height / 2 - j) / (height / 2) * 0.8
            value = trace(eye, Vec(x, y, 1.5).norm())
            total += value
            row.append(ramp[min(len(ramp) - 1, int(value * len(ramp)))])
        rows.append("".join(row))
    return rows, total


image, brightness = render(26, 10)
print("\n".join(image))
print(f"mean brightness {brightness / (26 * 10):.6f}")
print(Vec(1, 2, 3) + 2 * Vec(0.5, 0.5, 0.5), Vec(3, 4, 0).norm())
