# Times numpy matmul on the same cases as the JS benchmark (same protocol: warm-up, batches of R
# calls, median). Prints one JSON object per case. Usage: python3 numpy-matmul.py '<cases json>'
import json, sys, time
import numpy as np

def bench(fn, target=0.3, batches=5, max_r=50):
    t0 = time.perf_counter(); fn(); est = time.perf_counter() - t0
    t0 = time.perf_counter(); fn(); est = time.perf_counter() - t0
    r = max(1, min(max_r, round(target / max(est, 1e-6))))
    per = []
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(r): fn()
        per.append((time.perf_counter() - t0) / r)
    per.sort()
    return per[len(per) // 2] * 1000

for c in json.loads(sys.argv[1]):
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, size=c["a"]).astype(np.float32)
    b = rng.uniform(-1, 1, size=c["b"]).astype(np.float32)
    ms = bench(lambda: np.matmul(a, b))
    print(json.dumps({"case": c["name"], "ms": ms}), flush=True)
