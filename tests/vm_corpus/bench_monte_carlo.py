"""Seeded Monte Carlo: pi by darts, a random walk, birthday paradox, dice distribution and a queue simulation."""

import random
from collections import Counter

rng = random.Random(12345)
inside = sum(1 for _ in range(2000) if rng.random() ** 2 + rng.random() ** 2 <= 1.0)
print("pi ~", 4 * inside / 2000)

position, furthest = 0, 0
for _ in range(500):
    position += rng.choice((-1, 1))
    furthest = max(furthest, abs(position))
print("walk end", position, "furthest", furthest)


def shared_birthday(people, trials, rng):
    hits = 0
    for _ in range(trials):
        days = [rng.randrange(365) for _ in range(people)]
        hits += len(set(days)) < people
    return hits / trials


print("birthday 23:", shared_birthday(23, 150, rng), "birthday 10:", shared_birthday(10, 150, rng))
dice = Counter(rng.randint(1, 6) + rng.randint(1, 6) for _ in range(600))
for total in range(2, 13):
    print(f"{total:2} {'#' * (dice[total] // 5)}")


def bank_queue(rng, customers, tellers):
    clock, free_at, waits = 0.0, [0.0] * tellers, []
    for _ in range(customers):
        clock += rng.expovariate(1.0)
        teller = min(range(tellers), key=free_at.__getitem__)
        start = max(clock, free_at[teller])
        waits.append(start - clock)
        free_at[teller] = start + rng.uniform(0.5, 2.5)
    return sum(waits) / len(waits), max(waits)


for tellers in (1, 2, 3):
    mean, worst = bank_queue(random.Random(tellers), 150, tellers)
    print(f"tellers={tellers} mean wait {mean:.3f} worst {worst:.3f}")
deck = [f"{r}{s}" for s in "SHDC" for r in "A23456789TJQK"]
rng.shuffle(deck)
print(deck[:5], rng.sample(deck, 2), round(rng.triangular(0, 10, 3), 6), rng.getrandbits(20))
