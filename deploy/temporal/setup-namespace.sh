#!/bin/sh
# Makes the Temporal namespace SagaPay uses exist, with its retention, and registers SagaPay's
# custom search attributes (domain/search-attributes.ts) in it, so operators can filter sagas by
# them in the Web UI: what `npm run cluster` does at start (ensureNamespace in
# scripts/lib/temporal-cluster.ts). Creates only what is missing, so it can run at every
# `docker compose up`. Run by the temporal-setup job of docker-compose.yml (temporalio/admin-tools),
# which sets TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_NAMESPACE_RETENTION and
# SAGAPAY_SEARCH_ATTRIBUTES ("Name=Type" words; test/compose-topology.test.ts compares them with the code).
set -eu

namespace="${TEMPORAL_NAMESPACE:?}"
retention="${TEMPORAL_NAMESPACE_RETENTION:?}"
declared="${SAGAPAY_SEARCH_ATTRIBUTES:?}"
attributes=""
for pair in $declared; do attributes="$attributes ${pair%%=*}"; done

tries=0
until temporal operator cluster health >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "the Temporal server at ${TEMPORAL_ADDRESS:-?} is not healthy after 2 minutes" >&2
    exit 1
  fi
  sleep 2
done

if temporal operator namespace describe --namespace "$namespace" >/dev/null 2>&1; then
  echo "namespace '$namespace' exists"
else
  echo "creating namespace '$namespace' (retention $retention)"
  temporal operator namespace create --namespace "$namespace" --retention "$retention"
fi

# A new namespace reaches every part of the server within seconds: describe reads the database,
# while the search attributes are answered from the namespace cache, which refreshes every 10 s.
tries=0
until temporal operator search-attribute list --namespace "$namespace" >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "namespace '$namespace' not found at ${TEMPORAL_ADDRESS:-?} after 2 minutes" >&2
    exit 1
  fi
  sleep 2
done

# Prints the names of the attributes the namespace does not have yet.
missing() {
  registered="$(temporal operator search-attribute list --namespace "$namespace")"
  for name in $attributes; do
    printf '%s\n' "$registered" | grep -qw "$name" || printf '%s ' "$name"
  done
}

todo="$(missing)"
if [ -z "$todo" ]; then
  echo "search attributes already registered in '$namespace': $attributes"
  exit 0
fi

set --
for name in $todo; do
  for pair in $declared; do
    if [ "${pair%%=*}" = "$name" ]; then set -- "$@" --name "$name" --type "${pair#*=}"; fi
  done
done
echo "registering search attributes in '$namespace': $todo"
temporal operator search-attribute create --namespace "$namespace" "$@"

tries=0
while [ -n "$(missing)" ]; do
  tries=$((tries + 1))
  if [ "$tries" -ge 30 ]; then
    echo "search attributes still missing in '$namespace': $(missing)" >&2
    exit 1
  fi
  sleep 1
done
echo "search attributes registered in '$namespace': $attributes"
