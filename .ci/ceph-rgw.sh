#!/usr/bin/env bash
# A real S3 Object Lock implementation for the storage tests: Ceph RGW from Debian's packages.
# One monitor, one memstore OSD (data in RAM), radosgw on 127.0.0.1:${RGW_PORT:-7480}, cephx off.
# Idempotent: installs the packages if missing, starts what is not running, creates an S3 user and
# writes its endpoint + credentials to $CEPH_DIR/rgw.env (read by tests/storage and benchmarks).
# Exits 0 quickly when RGW already answers. Needs root. Usage: bash .ci/ceph-rgw.sh [stop]
set -euo pipefail

CEPH_DIR=${CEPH_DIR:-/tmp/liuhen-ceph}
RGW_PORT=${RGW_PORT:-7480}
MON_PORT=${MON_PORT:-6789}
CONF=$CEPH_DIR/ceph.conf
ENV_FILE=$CEPH_DIR/rgw.env
ACCESS_KEY=liuhentestaccesskey
SECRET_KEY=liuhentestsecretkey0123456789abcdef
log() { echo "ceph-rgw: $*" >&2; }

rgw_up() { curl -fsS -o /dev/null -m 3 "http://127.0.0.1:$RGW_PORT/" 2>/dev/null; }

# Stop every daemon of this cluster and forget its state (the OSD is memstore: its data is in RAM anyway).
# Waits until the old processes are really gone: a monitor still holding its port would answer the new
# cluster's commands with the old fsid ("wrong fsid").
stop_all() {
  pkill -f -- "-c $CONF" 2>/dev/null || true
  for _ in $(seq 1 60); do pgrep -f -- "-c $CONF" >/dev/null || break; sleep 0.25; done
  pkill -9 -f -- "-c $CONF" 2>/dev/null || true
  for _ in $(seq 1 60); do pgrep -f -- "-c $CONF" >/dev/null || break; sleep 0.25; done
  rm -rf "$CEPH_DIR"
}

# One retry from scratch if the fresh cluster does not come up (the daemons are timing-sensitive on 2 cores).
retry_or_fail() {
  if [[ -z ${LIUHEN_CEPH_RETRIED:-} ]]; then
    log "$1; retrying once from scratch"
    LIUHEN_CEPH_RETRIED=1 exec bash "$0"
  fi
  log "$1"
  exit 1
}

if [[ "${1:-}" == "stop" ]]; then
  stop_all
  exit 0
fi

if rgw_up && [[ -s $ENV_FILE ]]; then
  log "already running at http://127.0.0.1:$RGW_PORT ($ENV_FILE)"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  log "needs root (apt-get install, daemons); RGW tests will skip"
  exit 1
fi

if ! command -v radosgw >/dev/null || ! command -v ceph-osd >/dev/null || ! command -v ceph-mon >/dev/null; then
  log "installing ceph-mon ceph-osd ceph-common radosgw from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends ceph-mon ceph-osd ceph-common radosgw uuid-runtime curl >/dev/null
fi

# Not answering (never started, or hung — e.g. a full memstore OSD): start a fresh cluster.
stop_all
mkdir -p "$CEPH_DIR"/{mon,osd,run,log}
if [[ ! -f $CONF ]]; then
  FSID=$(uuidgen)
  cat > "$CONF" <<EOF
[global]
fsid = $FSID
mon host = v1:127.0.0.1:$MON_PORT
mon initial members = a
public addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
run dir = $CEPH_DIR/run
admin socket = $CEPH_DIR/run/\$name.asok
log file = $CEPH_DIR/log/\$name.log
pid file = $CEPH_DIR/run/\$type.pid
keyring = $CEPH_DIR/keyring
mon data = $CEPH_DIR/mon/\$id
osd data = $CEPH_DIR/osd/\$id
osd objectstore = memstore
memstore device bytes = 3221225472
osd max object size = 1073741824
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw dns name = 127.0.0.1
rgw data = $CEPH_DIR/rgw
EOF
fi
FSID=$(awk '/^fsid/ {print $3}' "$CONF")

# monitor
ceph-authtool --create-keyring "$CEPH_DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --clobber --add a "v1:127.0.0.1:$MON_PORT" --fsid "$FSID" "$CEPH_DIR/monmap" >/dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$CEPH_DIR/monmap" --keyring "$CEPH_DIR/keyring"
ceph-mon -c "$CONF" -i a
log "monitor started"
for _ in $(seq 1 30); do timeout 5 ceph -c "$CONF" mon stat >/dev/null 2>&1 && break; sleep 0.5; done

# one memstore OSD (its data is in RAM)
OSD_UUID=$(uuidgen)
timeout 10 ceph -c "$CONF" osd new "$OSD_UUID" >/dev/null || retry_or_fail "could not register the OSD"
mkdir -p "$CEPH_DIR/osd/0"
ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" >/dev/null 2>&1 || retry_or_fail "OSD mkfs failed"
ceph-osd -c "$CONF" -i 0 || retry_or_fail "the OSD did not start"
log "osd started"
for _ in $(seq 1 60); do
  timeout 5 ceph -c "$CONF" osd stat 2>/dev/null | grep -q "1 up" && break; sleep 0.5
done
timeout 5 ceph -c "$CONF" osd stat 2>/dev/null | grep -q "1 up" || retry_or_fail "the OSD did not come up"

# radosgw
mkdir -p "$CEPH_DIR/rgw"
radosgw -c "$CONF" -n client.rgw.a
log "radosgw starting"
for _ in $(seq 1 120); do rgw_up && break; sleep 0.5; done
if ! rgw_up; then
  retry_or_fail "radosgw did not answer on 127.0.0.1:$RGW_PORT; see $CEPH_DIR/log/"
fi

# S3 user
if ! timeout 30 radosgw-admin -c "$CONF" -n client.rgw.a user info --uid liuhen >/dev/null 2>&1; then
  timeout 30 radosgw-admin -c "$CONF" -n client.rgw.a user create --uid liuhen --display-name "Liuhen tests" \
    --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" >/dev/null 2>&1
fi
cat > "$ENV_FILE.tmp" <<EOF
LIUHEN_S3_ENDPOINT_URL=http://127.0.0.1:$RGW_PORT
LIUHEN_S3_REGION=us-east-1
AWS_ACCESS_KEY_ID=$ACCESS_KEY
AWS_SECRET_ACCESS_KEY=$SECRET_KEY
EOF
mv "$ENV_FILE.tmp" "$ENV_FILE"
log "ready at http://127.0.0.1:$RGW_PORT; credentials in $ENV_FILE"
cat "$ENV_FILE"
