-- Run once as a PostgreSQL superuser (psql -f bootstrap.sql). Afterwards migrations run as liuhen_owner
-- (systemctl start liuhen-migrate); 1000_roles.sql grants each component role what it needs.
CREATE ROLE liuhen_owner LOGIN PASSWORD 'CHANGE-ME' CREATEROLE;
CREATE DATABASE liuhen OWNER liuhen_owner;
\connect liuhen
ALTER SCHEMA public OWNER TO liuhen_owner;
-- The group roles are created by migration 1000 (or here, if the owner is not given CREATEROLE):
-- CREATE ROLE liuhen_station NOLOGIN; CREATE ROLE liuhen_worker NOLOGIN; CREATE ROLE liuhen_api NOLOGIN;
-- CREATE ROLE liuhen_readonly NOLOGIN;
-- One LOGIN role per host, member of exactly one component role (after the first migration):
-- CREATE ROLE station_jz01 LOGIN PASSWORD '…' IN ROLE liuhen_station;
-- CREATE ROLE worker_jz01  LOGIN PASSWORD '…' IN ROLE liuhen_worker;
-- CREATE ROLE api_jz01     LOGIN PASSWORD '…' IN ROLE liuhen_api;
