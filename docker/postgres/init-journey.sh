#!/bin/bash
# First start of the postgres service: the Journey warehouse database and its owner, beside
# Airflow's metadata database (POSTGRES_DB). The owner needs CREATEROLE: the migrations create
# the read-only BI role journey_bi.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v journey_password="${WAREHOUSE_DB_PASSWORD:-journey}" <<'SQL'
CREATE ROLE journey LOGIN CREATEROLE PASSWORD :'journey_password';
CREATE DATABASE journey OWNER journey;
SQL
