"""String algorithms: KMP, Boyer-Moore-Horspool, Rabin-Karp, Z-function, longest palindrome, anagram groups."""

from collections import defaultdict


def kmp_table(pattern):
    table, k = [0] * len(pattern), 0
    for i in range(1, len(pattern)):
        while k and pattern[i] != pattern[k]:
            k = table[k - 1]
        if pattern[i] == pattern[k]:
            k += 1
        table[i] = k
    return table


def kmp_search(text, pattern):
    table, k, hits = kmp_table(pattern), 0, []
    for i, ch in enumerate(text):
        while k and ch != pattern[k]:
            k = table[k - 1]
        if ch == pattern[k]:
            k += 1
        if k == len(pattern):
            hits.append(i - k + 1)
            k = table[k - 1]
    return hits


def horspool(text, pattern):
    shift = {ch: len(pattern) - i - 1 for i, ch in enumerate(pattern[:-1])}
    hits, i = [], 0
    while i <= len(text) - len(pattern):
        if text[i:i + len(pattern)] == pattern:
            hits.append(i)
        i += shift.get(text[i + len(pattern) - 1], len(pattern))
    return hits


def rabin_karp(text, pattern, base=256, modulus=1_000_003):
    m = len(pattern)
    high = pow(base, m - 1, modulus)
    target = current = 0
    for a, b in zip(pattern, text):
        target = (target * base + ord(a)) % modulus
        current = (current * base + ord(b)) % modulus
    hits = []
    for i in range(len(text) - m + 1):
        if current == target and text[i:i + m] == pattern:
            hits.append(i)
        if i + m < len(text):
            current = ((current - ord(text[i]) * high) * base + ord(text[i + m])) % modulus
    return hits


def z_function(s):
    z, left, right = [0] * len(s), 0, 0
    for i in range(1, len(s)):
        if i < right:
            z[i] = min(right - i, z[i - left])
        while i + z[i] < len(s) and s[z[i]] == s[i + z[i]]:
            z[i] += 1
        if i + z[i] > right:
            left, right = i, i + z[i]
    return z


def longest_palindrome(s):
    best = ""
    for center in range(2 * len(s) - 1):
        lo, hi = center // 2, center // 2 + center % 2
        while lo >= 0 and hi < len(s) and s[lo] == s[hi]:
            lo, hi = lo - 1, hi + 1
        if hi - lo - 1 > len(best):
            best = s[lo + 1:hi]
    return best


TEXT = "abracadabra abracadabra cadabra bra"
for pattern in ["abra", "cad", "bra", "zzz", "a"]:
    results = kmp_search(TEXT, pattern), horspool(TEXT, pattern), rabin_karp(TEXT, pattern)
    print(f"{pattern:5} {results[0]} agree={results[0] == results[1] == results[2]}")
print(kmp_table("aabaaab"), z_function("aabcaabxaaaz"))
print(longest_palindrome("forgeeksskeegfor"), longest_palindrome("abacdfgdcaba"), repr(longest_palindrome("")))
groups = defaultdict(list)
for word in ["listen", "silent", "enlist", "google", "gooegl", "cat", "act", "tac", "dog"]:
    groups["".join(sorted(word))].append(word)
print(sorted(sorted(g) for g in groups.values() if len(g) > 1))
print("".join(reversed("stressed")), "racecar"[::-1] == "racecar", "A man a plan".lower().replace(" ", ""))
print(TEXT.count("abra"), TEXT.find("cad"), TEXT.rfind("cad"), TEXT.index("bra", 5), TEXT.partition(" "))
TEXT.index("missing")
