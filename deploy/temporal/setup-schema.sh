#!/bin/sh
# Creates Temporal's two PostgreSQL databases and applies the schemas embedded in temporal-sql-tool,
# the steps `npm run cluster` runs (applyTemporalSchemas in scripts/lib/temporal-cluster.ts):
# `create-database`, `setup-schema -v 0.0`, then `update-schema --schema-name`. Safe at every start:
# with the postgres12 plugin, create-database succeeds on an existing database, setup-schema leaves a
# versioned schema alone, and update-schema applies only the versions the database lacks.
# Run by the temporal-schema job of docker-compose.yml (temporalio/admin-tools). The tool reads
# SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD from the environment, so the password
# never appears in `ps`.
set -eu

# Applies one store: its database name, then the schema folder the tool embeds.
apply() {
  database="$1"
  schema="$2"
  if ! output="$(temporal-sql-tool --db "$database" create-database 2>&1)"; then
    case "$output" in
      *"already exists"*) ;;
      *) printf '%s\n' "$output" >&2; exit 1 ;;
    esac
  fi
  echo "schema of '$database': setting up if new, then updating to $schema of this image's version"
  temporal-sql-tool --db "$database" setup-schema -v 0.0
  temporal-sql-tool --db "$database" update-schema --schema-name "$schema"
}

apply "${TEMPORAL_DATABASE:?}" "${TEMPORAL_SCHEMA_NAME:?}"
apply "${TEMPORAL_VISIBILITY_DATABASE:?}" "${TEMPORAL_VISIBILITY_SCHEMA_NAME:?}"
echo "Temporal schemas ready"
