#!/usr/bin/env bash
# The fraud-check example in one command: streams synthetic card transactions through the
# fraud-check surface and prints alerts as they appear.
#
#   examples/fraud/run.sh                         # embedded: durable local log, HTTP ingest
#   examples/fraud/run.sh --kafka localhost:9092  # the same surface reading a Kafka topic
#   examples/fraud/run.sh --rate 2000 --cards 5000
#
# Other options are passed to 'scoreline stream demo' (see --help). Data (logs, online store)
# goes to examples/fraud/.scoreline/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
project="$here"
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --kafka)
      # a copy of the project whose surface reads the topic 'card-txns' (one line changes)
      project="$here/.scoreline/kafka-project"
      rm -rf "$project" && mkdir -p "$project"
      cp -r "$here/features" "$here/models" "$here/data" "$project/"
      mkdir -p "$project/surfaces"
      sed "s|^  source: {type: embedded, stream: transactions}|  source: {type: kafka, topic: card-txns, bootstrap-servers: \"$2\"}|" \
        "$here/surfaces/fraud-check.yaml" > "$project/surfaces/fraud-check.yaml"
      shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
exec "$root/scoreline" stream demo "$project" ${args[@]+"${args[@]}"}
