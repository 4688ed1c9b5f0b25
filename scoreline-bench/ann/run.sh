#!/usr/bin/env bash
# ANN benchmark: Scoreline's jvector index, hnswlib HNSW and faiss IndexHNSWFlat on the same
# vectors, single-thread search, recall@K and queries/s per ef, in one run and one table.
#
#   scoreline-bench/ann/run.sh <base.fvecs> <query.fvecs> [similarity]
#   scoreline-bench/ann/run.sh --synthetic 10000x32 [similarity]    # generated clustered vectors
#
# similarity: dot-product (default), cosine or euclidean. A saved Scoreline index keeps its
# vectors as <index>/vectors.fvecs, so it can be the base file directly.
# Environment: EF (default 10,20,40,80,160,320), K (10), REPEATS (3), MEASURE_SECONDS (1, per repeat),
# QUERIES (synthetic query count, 1000), JAVA (java), JAVA_OPTS, PYTHON (/usr/bin/python3: Debian's
# python3-hnswlib and python3-faiss are installed for it), OUT (directory for the CSVs; a
# temporary one by default).
# Needs the bench jar: ./mvnw -B -DskipTests install (or -pl scoreline-bench -am package).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
jar="$root/scoreline-bench/target/scoreline-bench.jar"
JAVA=${JAVA:-java}
PYTHON=${PYTHON:-/usr/bin/python3}
EF=${EF:-10,20,40,80,160,320}
K=${K:-10}
REPEATS=${REPEATS:-3}
SECONDS_PER_REPEAT=${MEASURE_SECONDS:-1}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"

if [ $# -lt 2 ]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
if [ ! -f "$jar" ]; then
  echo "missing $jar: build it with ./mvnw -B -DskipTests install" >&2
  exit 1
fi
if ! "$PYTHON" -c 'import hnswlib, faiss' 2>/dev/null; then
  echo "$PYTHON cannot import hnswlib and faiss: apt-get install -y python3-hnswlib python3-faiss" >&2
  exit 1
fi

common=(--k "$K" --ef "$EF" --repeats "$REPEATS" --seconds "$SECONDS_PER_REPEAT")
if [ "$1" = "--synthetic" ]; then
  sim=${3:-dot-product}
  data=(--generate "$2" --generate-queries "${QUERIES:-1000}" --write-fvecs "$OUT")
  base="$OUT/base.fvecs"
  query="$OUT/query.fvecs"
else
  base=$1
  query=$2
  sim=${3:-dot-product}
  data=(--base "$base" --queries "$query")
fi

echo "== scoreline jvector ($JAVA)" >&2
"$JAVA" ${JAVA_OPTS:-} -cp "$jar:$root/scoreline-bench/target/lib/*" dev.scoreline.bench.ann.AnnBenchmark \
  "${data[@]}" --similarity "$sim" "${common[@]}" --csv "$OUT/jvector.csv" >&2

echo "== hnswlib and faiss ($PYTHON)" >&2
"$PYTHON" "$root/scoreline-bench/ann/hnsw_faiss.py" "$base" "$query" --similarity "$sim" \
  "${common[@]}" --csv "$OUT/hnsw_faiss.csv" >&2

echo
echo "$sim, base $(basename "$base"), queries $(basename "$query"); CSVs in $OUT; $(nproc) CPUs, $(uname -m)"
"$PYTHON" "$root/scoreline-bench/ann/hnsw_faiss.py" --k "$K" --table "$OUT/jvector.csv" "$OUT/hnsw_faiss.csv"
