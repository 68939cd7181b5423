#!/bin/sh
# Run by the mysql image once, when its data volume is first initialised (after it has created
# the sagapay database and user): a MySQL user of Temporal's own, limited to Temporal's two
# databases, which temporalio/auto-setup then creates and fills. The image may source this file
# instead of running it, so it sets no shell options and never exits.
mysql --protocol=socket --user=root --password="${MYSQL_ROOT_PASSWORD:?}" <<SQL
CREATE USER IF NOT EXISTS '${TEMPORAL_DB_USER:?}'@'%' IDENTIFIED BY '${TEMPORAL_DB_PASSWORD:?}';
GRANT ALL PRIVILEGES ON \`temporal\`.* TO '${TEMPORAL_DB_USER}'@'%';
GRANT ALL PRIVILEGES ON \`temporal_visibility\`.* TO '${TEMPORAL_DB_USER}'@'%';
SQL
