#!/bin/sh
# Installs what the classroom store's PostgreSQL tests need: Debian's PostgreSQL server programs
# (initdb, postgres). The tests start a throw-away cluster of their own (tests/postgres.py); no
# system-wide cluster or service is created or started here. Without root (a student's laptop)
# nothing is installed and those tests skip with a visible reason; under CI (CI=true) a missing
# PostgreSQL makes them fail instead.
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing postgresql with apt-get"
  # Debian's package would otherwise create (and try to start) a 'main' cluster on port 5432 that
  # nothing here uses.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/tinylm-no-main-cluster.conf
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
else
  echo "note: PostgreSQL's initdb is missing and this user cannot apt-get install it; PostgreSQL tests will be skipped"
fi
exit 0
