"""k-means clustering on seeded random 2-D data, with k-means++ style initialisation and convergence tracking."""

import math
import random

rng = random.Random(2024)
CENTRES = [(2.0, 2.0), (8.0, 3.0), (5.0, 8.0)]
points = [(rng.gauss(cx, 0.8), rng.gauss(cy, 0.8)) for cx, cy in CENTRES for _ in range(25)]
rng.shuffle(points)


def distance2(a, b):
    return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2


def initialise(data, k, rng):
    centroids = [rng.choice(data)]
    while len(centroids) < k:
        weights = [min(distance2(p, c) for c in centroids) for p in data]
        total = sum(weights)
        target = rng.random() * total
        running = 0.0
        for point, weight in zip(data, weights):
            running += weight
            if running >= target:
                centroids.append(point)
                break
    return centroids


def kmeans(data, k, rng, limit=20):
    centroids = initialise(data, k, rng)
    for iteration in range(1, limit + 1):
        clusters = [[] for _ in range(k)]
        for p in data:
            clusters[min(range(k), key=lambda i: distance2(p, centroids[i]))].append(p)
        updated = [(sum(x for x, _ in c) / len(c), sum(y for _, y in c) / len(c)) if c else centroids[i]
                   for i, c in enumerate(clusters)]
        shift = max(math.dist(a, b) for a, b in zip(centroids, updated))
        centroids = updated
        if shift < 1e-9:
            return centroids, clusters, iteration
    return centroids, clusters, limit


centroids, clusters, iterations = kmeans(points, 3, random.Random(7))
order = sorted(range(3), key=lambda i: centroids[i])
print("converged after", iterations, "iterations")
for i in order:
    cx, cy = centroids[i]
    spread = math.sqrt(sum(distance2(p, centroids[i]) for p in clusters[i]) / len(clusters[i]))
    print(f"centre ({cx:.3f}, {cy:.3f}) size {len(clusters[i])} spread {spread:.3f}")
inertia = sum(distance2(p, centroids[i]) for i in range(3) for p in clusters[i])
print(f"inertia {inertia:.4f}")
print(round(rng.random(), 10), rng.randint(1, 6), rng.choice("abc"), rng.sample(range(10), 3))
