#!/bin/sh
# Creates Temporal's schema in its two MySQL databases, or upgrades it to this image's version.
# Run by the temporal-schema job of docker-compose.yml (temporalio/admin-tools) before the server
# starts. Both steps are idempotent: `setup-schema -v 0.0` leaves a versioned schema alone, and
# `update-schema` applies only the versions the database does not have yet. The databases and the
# `temporal` user come from deploy/mysql/initdb/10-temporal-user.sh. SQL_PASSWORD stays in the
# environment, where temporal-sql-tool reads it, so it never appears in `ps`.
set -eu

schema_root=/etc/temporal/schema/mysql/v8
tool() {
  temporal-sql-tool --plugin mysql8 --ep "${SQL_HOST:?}" -p "${SQL_PORT:-3306}" -u "${SQL_USER:?}" "$@"
}

for database in temporal temporal_visibility; do
  case "$database" in
    temporal) versions="$schema_root/temporal/versioned" ;;
    *) versions="$schema_root/visibility/versioned" ;;
  esac
  echo "schema of '$database': setting up (if new) and updating to this image's version"
  tool --db "$database" setup-schema -v 0.0
  tool --db "$database" update-schema -d "$versions"
done
echo "Temporal schema ready"
