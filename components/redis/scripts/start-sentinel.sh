#!/bin/sh
# Start one Sentinel monitoring the current master, found the way start-redis.sh finds it:
# the other Sentinels' answer; else the server claiming the role, or the master the replicas
# follow; else (everything restarting at once) the bootstrap server, ordinal 0. The config is
# written afresh on every start; the epochs and the other Sentinels' view arrive with their
# hello messages within seconds.
#
# Environment: MY_HOST, SENTINEL_PORT, BIND_ADDRESS, SENTINEL_DATA_DIR, REDIS_PASSWORD,
# MASTER_NAME, SENTINEL_NODES, REDIS_NODES, BOOTSTRAP_MASTER, CONFIG_TEMPLATE (rendered
# sentinel.conf), CONFIG_FILE (the filled-in copy; Sentinel rewrites it as its state changes).
set -eu -f
: "${MY_HOST:?}" "${SENTINEL_PORT:?}" "${BIND_ADDRESS:?}" "${SENTINEL_DATA_DIR:?}" "${REDIS_PASSWORD:?}"
: "${MASTER_NAME:?}" "${SENTINEL_NODES:?}" "${REDIS_NODES:?}" "${BOOTSTRAP_MASTER:?}"
: "${CONFIG_TEMPLATE:?}" "${CONFIG_FILE:?}"
# shellcheck source-path=SCRIPTDIR source=discover.sh
. "$(dirname "$0")/discover.sh"
SERVER=$(command -v valkey-server || command -v redis-server)
SELF="$MY_HOST:$SENTINEL_PORT"

choose_master() {
    status=0
    master=$(sentinel_master) || status=$?
    if [ $status -eq 1 ]; then
        status=0
        master=$(member_master) || status=$?
        if [ $status -eq 1 ]; then
            log "no Sentinel answers and no server knows a master; monitoring the bootstrap master"
            master=$BOOTSTRAP_MASTER
            status=0
        fi
    fi
    if [ $status -ne 0 ]; then
        log "the Sentinels or the servers disagree on the master; waiting"
        return 1
    fi
    log "monitoring $master"
    MASTER=$master
}

wait_for_master choose_master
export MASTER_HOST="${MASTER%:*}" MASTER_PORT="${MASTER##*:}"
umask 077
render "$CONFIG_TEMPLATE" >"$CONFIG_FILE"
exec "$SERVER" "$CONFIG_FILE" --sentinel
