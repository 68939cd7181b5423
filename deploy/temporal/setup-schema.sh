#!/bin/sh
# Creates Temporal's two PostgreSQL databases and applies the schemas embedded in temporal-sql-tool,
# the same steps `npm run cluster` runs (applyTemporalSchemas in scripts/lib/temporal-cluster.ts):
# `create-database`; on a new database `setup-schema -v 0.0`; then `update-schema --schema-name`,
# which applies only the versions the database does not have yet, so this is safe at every start.
# Run by the temporal-schema job of docker-compose.yml (temporalio/admin-tools). The tool reads
# SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD from the environment, so the password
# never appears in `ps`.
set -eu

# Applies one store: database name, then the schema folder the tool embeds.
apply() {
  database="$1"
  schema="$2"
  if output="$(temporal-sql-tool --db "$database" create-database 2>&1)"; then
    echo "database '$database' created; setting up its schema"
    temporal-sql-tool --db "$database" setup-schema -v 0.0
  else
    case "$output" in
      *"already exists"*) echo "database '$database' exists" ;;
      *) printf '%s\n' "$output" >&2; exit 1 ;;
    esac
  fi
  echo "schema of '$database': updating to $schema of this image's version"
  temporal-sql-tool --db "$database" update-schema --schema-name "$schema"
}

apply "${TEMPORAL_DATABASE:?}" "${TEMPORAL_SCHEMA_NAME:?}"
apply "${TEMPORAL_VISIBILITY_DATABASE:?}" "${TEMPORAL_VISIBILITY_SCHEMA_NAME:?}"
echo "Temporal schemas ready"
