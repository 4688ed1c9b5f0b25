#!/usr/bin/python3
"""hnswlib HNSW and faiss IndexHNSWFlat on the same .fvecs files as AnnBenchmark.

Single-thread search (hnswlib num_threads=1, faiss omp_set_num_threads(1)), recall@k against an
exact faiss flat index, queries per second for each ef, graph build time. Item ids are the
positions in the base file, as in AnnBenchmark. Uses Debian's packages:

    apt-get install -y python3-hnswlib python3-faiss     # numpy comes with them

Run with /usr/bin/python3 (the Debian interpreter those packages are installed for):

    /usr/bin/python3 scoreline-bench/ann/hnsw_faiss.py base.fvecs query.fvecs \
        [--similarity dot-product] [--k 10] [--ef 10,20,40,80,160,320] [--M 16] \
        [--ef-construction 100] [--repeats 3] [--seconds 1] [--csv out.csv]

    /usr/bin/python3 scoreline-bench/ann/hnsw_faiss.py --table a.csv b.csv   # one merged table

--M 16 gives HNSW a base-layer degree of 2*M = 32, the same as jvector's max-degree 32.
Queries are passed as one batch per pass, so the loop over queries runs in C++ (one thread, one
query at a time), like the Java driver's loop; there is no per-query Python overhead.
"""

import argparse
import csv
import os
import sys
import time

import numpy as np

CSV_HEADER = ["engine", "params", "ef", "recall", "qps", "cpu_qps", "build_s"]


def read_fvecs(path):
    raw = np.fromfile(path, dtype="<i4")
    if raw.size == 0:
        sys.exit(f"{path}: no vectors")
    dim = int(raw[0])
    if dim <= 0 or raw.size % (dim + 1) != 0:
        sys.exit(f"{path}: not an .fvecs file (dimension {dim}, {raw.size * 4} bytes)")
    rows = raw.reshape(-1, dim + 1)
    if not np.all(rows[:, 0] == dim):
        sys.exit(f"{path}: vectors of different dimensions")
    return np.ascontiguousarray(rows[:, 1:]).view("<f4").astype(np.float32)


def normalized(x):
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return np.ascontiguousarray(x / norms, dtype=np.float32)


def recall(truth, found, k):
    hits = 0
    for t, f in zip(truth, found):
        hits += len(set(t[:k].tolist()) & set(f[:k].tolist()))
    return hits / (len(truth) * k)


def measure(run, repeats, seconds, n_queries):
    """One warmup pass, then the median QPS over repeats of whole passes lasting >= seconds:
    per wall-clock second and per CPU second of this thread (both libraries search in the
    calling thread when given one thread)."""
    run()
    rates, cpu_rates = [], []
    for _ in range(repeats):
        done = 0
        cpu_start = time.thread_time()
        start = time.perf_counter()
        while True:
            run()
            done += n_queries
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
        rates.append(done / elapsed)
        cpu_rates.append(done / max(1e-9, time.thread_time() - cpu_start))
    rates.sort()
    cpu_rates.sort()
    return rates[len(rates) // 2], cpu_rates[len(cpu_rates) // 2]


def bench(args):
    import faiss
    import hnswlib

    base = read_fvecs(args.base)
    queries = read_fvecs(args.queries)
    if base.shape[1] != queries.shape[1]:
        sys.exit(f"base has dimension {base.shape[1]}, queries {queries.shape[1]}")
    n, dim = base.shape
    k = args.k
    build_threads = args.build_threads or os.cpu_count()

    sim = args.similarity
    if sim == "cosine":
        base_s, queries_s = normalized(base), normalized(queries)
        hnsw_space, faiss_metric = "cosine", faiss.METRIC_INNER_PRODUCT
    elif sim in ("dot-product", "dot", "inner-product"):
        base_s, queries_s = base, queries
        hnsw_space, faiss_metric = "ip", faiss.METRIC_INNER_PRODUCT
    elif sim in ("euclidean", "l2"):
        base_s, queries_s = base, queries
        hnsw_space, faiss_metric = "l2", faiss.METRIC_L2
    else:
        sys.exit(f"--similarity {sim}: use dot-product, cosine or euclidean")

    # ground truth: exact search (the flat index; any thread count)
    faiss.omp_set_num_threads(build_threads)
    flat = faiss.IndexFlatIP(dim) if faiss_metric == faiss.METRIC_INNER_PRODUCT else faiss.IndexFlatL2(dim)
    flat.add(base_s)
    _, truth = flat.search(queries_s, k)

    rows = []
    params = f"M={args.M} efC={args.ef_construction}"

    # hnswlib
    index = hnswlib.Index(space=hnsw_space, dim=dim)
    index.init_index(max_elements=n, ef_construction=args.ef_construction, M=args.M, random_seed=100)
    index.set_num_threads(build_threads)
    t0 = time.perf_counter()
    index.add_items(base, np.arange(n), num_threads=build_threads)
    build = time.perf_counter() - t0
    print(f"hnswlib build: {build:.2f} s ({build_threads} threads)", file=sys.stderr)
    index.set_num_threads(1)
    for ef in args.ef:
        index.set_ef(max(ef, k))
        labels, _ = index.knn_query(queries, k=k, num_threads=1)
        r = recall(truth, labels, k)
        qps, cpu_qps = measure(lambda: index.knn_query(queries, k=k, num_threads=1),
                               args.repeats, args.seconds, len(queries))
        rows.append(["hnswlib", params, str(ef), r, qps, cpu_qps, build])
        print(f"hnswlib ef={ef}: recall {r:.4f}, {qps:.0f} queries/s, {cpu_qps:.0f} queries/CPU-s",
              file=sys.stderr)

    # faiss IndexHNSWFlat
    findex = faiss.IndexHNSWFlat(dim, args.M, faiss_metric)
    findex.hnsw.efConstruction = args.ef_construction
    faiss.omp_set_num_threads(build_threads)
    t0 = time.perf_counter()
    findex.add(base_s)
    build = time.perf_counter() - t0
    print(f"faiss build: {build:.2f} s ({build_threads} threads)", file=sys.stderr)
    faiss.omp_set_num_threads(1)
    for ef in args.ef:
        findex.hnsw.efSearch = max(ef, k)
        _, labels = findex.search(queries_s, k)
        r = recall(truth, labels, k)
        qps, cpu_qps = measure(lambda: findex.search(queries_s, k), args.repeats, args.seconds,
                               len(queries))
        rows.append(["faiss-hnsw", params, str(ef), r, qps, cpu_qps, build])
        print(f"faiss ef={ef}: recall {r:.4f}, {qps:.0f} queries/s, {cpu_qps:.0f} queries/CPU-s",
              file=sys.stderr)

    title = (f"ANN {sim}: {n} items x {dim} dims, {len(queries)} queries, recall@{k}, "
             f"single-thread search, faiss {faiss.__version__}, hnswlib (Debian python3-hnswlib)")
    print()
    print(markdown(title, k, rows))
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(CSV_HEADER)
            for row in rows:
                w.writerow([row[0], row[1], row[2], f"{row[3]:.4f}", f"{row[4]:.1f}", f"{row[5]:.1f}",
                            f"{row[6]:.3f}"])
        print(f"wrote {args.csv}")


def markdown(title, k, rows):
    lines = [title, "", f"| engine | graph | ef | recall@{k} | QPS | QPS per CPU-s | build s |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for engine, params, ef, r, qps, cpu_qps, build in rows:
        lines.append(f"| {engine} | {params} | {ef} | {float(r):.4f} | {float(qps):.0f} "
                     f"| {float(cpu_qps):.0f} | {float(build):.2f} |")
    return "\n".join(lines)


def table(paths, k):
    """One table from several CSVs, ordered by ef, then engine; plus QPS ratios per ef."""
    rows = []
    for p in paths:
        with open(p, newline="") as f:
            for row in csv.DictReader(f):
                rows.append(row)

    def ef_key(row):
        return -1 if row["ef"] == "-" else int(row["ef"])

    rows.sort(key=lambda row: (ef_key(row), row["engine"]))
    out = [[r["engine"], r["params"], r["ef"], r["recall"], r["qps"], r["cpu_qps"], r["build_s"]]
           for r in rows]
    print(markdown(f"ANN results ({', '.join(paths)})", k, out))
    # ratio of each engine's QPS to jvector's at the same ef (wall clock and per CPU second)
    jv = {r["ef"]: r for r in rows if r["engine"] == "scoreline-jvector"}
    if jv:
        print()
        print("| ef | engine | QPS / jvector QPS | per-CPU-s QPS / jvector's |")
        print("|---:|---|---:|---:|")
        for r in rows:
            if r["ef"] in jv and r["engine"] != "scoreline-jvector":
                base = jv[r["ef"]]
                print(f"| {r['ef']} | {r['engine']} | {float(r['qps']) / float(base['qps']):.2f} "
                      f"| {float(r['cpu_qps']) / float(base['cpu_qps']):.2f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base", nargs="?")
    ap.add_argument("queries", nargs="?")
    ap.add_argument("--similarity", default="dot-product")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--ef", type=lambda s: [int(x) for x in s.split(",")], default=[10, 20, 40, 80, 160, 320])
    ap.add_argument("--M", type=int, default=16)
    ap.add_argument("--ef-construction", type=int, default=100)
    ap.add_argument("--build-threads", type=int, default=0, help="0: all processors")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--csv")
    ap.add_argument("--table", nargs="+", metavar="CSV", help="print one table from these CSVs and exit")
    args = ap.parse_args()
    if args.table:
        table(args.table, args.k)
        return
    if not args.base or not args.queries:
        ap.error("give base.fvecs and query.fvecs (or --table CSV...)")
    bench(args)


if __name__ == "__main__":
    main()
