#!/bin/sh
# Run by the mysql image once, when its data volume is first initialised (after it has created
# the sagapay database and user): Temporal's two databases and a MySQL user of its own, limited to
# them. The temporal-schema job of docker-compose.yml then fills them. The image may source this
# file instead of running it, so it sets no shell options and never exits.
mysql --protocol=socket --user=root --password="${MYSQL_ROOT_PASSWORD:?}" <<SQL
CREATE DATABASE IF NOT EXISTS \`temporal\`;
CREATE DATABASE IF NOT EXISTS \`temporal_visibility\`;
CREATE USER IF NOT EXISTS '${TEMPORAL_DB_USER:?}'@'%' IDENTIFIED BY '${TEMPORAL_DB_PASSWORD:?}';
GRANT ALL PRIVILEGES ON \`temporal\`.* TO '${TEMPORAL_DB_USER}'@'%';
GRANT ALL PRIVILEGES ON \`temporal_visibility\`.* TO '${TEMPORAL_DB_USER}'@'%';
SQL
