# SPDX-License-Identifier: MIT
#
# DOC: a standard-library workload for the malloc shim's `real` tests.
#
# Deterministic (fixed seeds, no time, no addresses): generates records,
# round-trips them through json, regex-parses generated text, counts with
# collections, hashes, sorts, builds and tears down large dicts, lists and
# strings, and runs a thread pool, printing digests of every result.
import collections
import hashlib
import json
import random
import re
import statistics
import zlib
from concurrent.futures import ThreadPoolExecutor

rng = random.Random(7)
words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 12)))
         for _ in range(5000)]


def digest(obj):
    return hashlib.sha256(repr(obj).encode()).hexdigest()[:16]


# json round trips of nested records
records = [{"id": i, "name": rng.choice(words), "tags": rng.sample(words, 5),
            "score": rng.random(), "nested": {"k": [rng.randint(0, 1000) for _ in range(20)]}}
           for i in range(20000)]
text = json.dumps(records, sort_keys=True)
back = json.loads(text)
assert back == records
print("json", len(text), digest(back[:100]))

# regular expressions over generated text
lines = [f"{rng.choice(words)}={rng.randint(0, 99999)};{rng.choice(words)}@{rng.choice(words)}.org"
         for _ in range(30000)]
pat = re.compile(r"(\w+)=(\d+);(\w+)@(\w+)\.org")
parsed = [pat.match(line).groups() for line in lines]
print("re", len(parsed), sum(int(p[1]) for p in parsed), digest(parsed[-50:]))

# collections
counter = collections.Counter(w for rec in records for w in rec["tags"])
print("counter", counter.most_common(5))
groups = collections.defaultdict(list)
for rec in records:
    groups[rec["name"][0]].append(rec["id"])
print("groups", sorted((k, len(v)) for k, v in groups.items())[:10])
dq = collections.deque(maxlen=1000)
for i in range(200000):
    dq.append(i * i)
print("deque", sum(dq))

# hashing and compression of big buffers
blob = "".join(lines).encode() * 4
print("sha256", hashlib.sha256(blob).hexdigest()[:32], "md5", hashlib.md5(blob).hexdigest())
comp = zlib.compress(blob, 6)
assert zlib.decompress(comp) == blob
print("zlib", len(blob), len(comp))

# sorting, big containers, churn
nums = [rng.random() for _ in range(300000)]
nums.sort()
print("sort", round(statistics.fmean(nums), 6), round(statistics.median(nums), 6))
table = {w + str(i): i for i, w in enumerate(words * 40)}
for k in list(table)[::2]:
    del table[k]
print("dict", len(table), sum(table.values()))
strings = [w * rng.randint(1, 300) for w in words]
print("strings", sum(map(len, strings)), digest(sorted(strings)[:20]))
del strings, table, nums

# threads allocating and freeing concurrently
def work(seed):
    r = random.Random(seed)
    data = [[r.random() for _ in range(r.randint(1, 200))] for _ in range(3000)]
    return round(sum(map(sum, data)), 3)


with ThreadPoolExecutor(max_workers=8) as pool:
    print("threads", list(pool.map(work, range(16))))
