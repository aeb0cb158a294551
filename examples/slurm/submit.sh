#!/usr/bin/env bash
# Submits a scenario as N static shards (a Slurm job array) and a merge that runs once they have all ended.
#   SCENARIO=full ./examples/slurm/submit.sh 16
set -euo pipefail
N="${1:?usage: submit.sh <number of shards>}"
here="$(cd "$(dirname "$0")" && pwd)"
export SCENARIO="${SCENARIO:-default}" RESULTS="${RESULTS:-results}" SHARDS="$N"
array="$(sbatch --parsable --export=ALL --array="1-$N" "$here/shard.sbatch")"
sbatch --parsable --export=ALL --dependency="afterany:${array%%;*}" "$here/merge.sbatch"
