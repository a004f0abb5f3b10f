"""regex-dna shape: a seeded random DNA sequence, variant counting with alternations, IUB substitutions."""

import random
import re

rng = random.Random(99)
ALPHABET = "acgt"
sequence_lines = [">ONE Homo sapiens alu"]
sequence_lines += ["".join(rng.choice(ALPHABET) for _ in range(60)) for _ in range(12)]
sequence_lines.append(">TWO IUB ambiguity codes")
sequence_lines += ["".join(rng.choice("acgtacgtBDHKMNRSVWY") for _ in range(60)) for _ in range(4)]
text = "\n".join(sequence_lines) + "\n"
original_length = len(text)
clean = re.sub(r">.*\n|\n", "", text)
print("lengths", original_length, len(clean))

VARIANTS = ("agggtaaa|tttaccct", "[cgt]gggtaaa|tttaccc[acg]", "a[act]ggtaaa|tttacc[agt]t", "ag[act]gtaaa|tttac[agt]ct",
            "agg[act]taaa|ttta[agt]cct", "aggg[acg]aaa|ttt[cgt]ccct", "agggt[cgt]aa|tt[acg]accct",
            "agggta[cgt]a|t[acg]taccct", "agggtaa[cgt]|[acg]ttaccct", "gg|cc", "a[cg]t")
for variant in VARIANTS:
    print(variant, len(re.findall(variant, clean, re.IGNORECASE)))

SUBSTITUTIONS = {"B": "(c|g|t)", "D": "(a|g|t)", "H": "(a|c|t)", "K": "(g|t)", "M": "(a|c)", "N": "(a|c|g|t)",
                 "R": "(a|g)", "S": "(c|g)", "V": "(a|c|g)", "W": "(a|t)", "Y": "(c|t)"}
expanded = re.sub("[BDHKMNRSVWY]", lambda m: SUBSTITUTIONS[m.group()], clean)
print("expanded length", len(expanded))
counts = {base: clean.count(base) for base in ALPHABET}
print(counts, max(counts, key=counts.get))
codons = re.findall(r"[acgt]{3}", clean[:90])
print(codons[:10], len(set(codons)))
print(re.sub(r"(a+)", lambda m: str(len(m.group(1))), clean[:40]))
