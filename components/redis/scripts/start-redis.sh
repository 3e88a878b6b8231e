#!/bin/sh
# Start one Redis (Valkey) server as the master or as a replica, never as a second master.
#
# 1. The Sentinels decide: if every answering Sentinel names the same master and none is failing
#    over, follow it. If they name this server, it restarted before they noticed it was gone
#    (a crash, an OOM kill): its dataset is the last snapshot on disk, while a replica that was
#    following it holds everything it had replicated. So it asks a Sentinel to promote that
#    replica and waits to follow it; it takes the role back only when no replica is fit (none
#    followed it, or Sentinel finds none to promote) and no other server claims the role.
# 2. No Sentinel answers (all restarting): follow the server that claims to be master, or else the
#    master the replicas still follow.
# 3. Nobody knows a master (everything restarting at once): only the bootstrap server (ordinal 0)
#    becomes master; the others wait until the Sentinels or the servers name one.
# Anything else (disagreement, failover under way) is waited out. The old master of a failover
# therefore rejoins as a replica: the split brain of charts that start as master by default.
#
# Environment: MY_HOST, REDIS_PORT, BIND_ADDRESS, REDIS_DATA_DIR, REDIS_PASSWORD, MASTER_NAME,
# SENTINEL_NODES, REDIS_NODES, BOOTSTRAP_MASTER, CONFIG_TEMPLATE (rendered redis.conf),
# CONFIG_FILE (where to write the filled-in copy).
set -eu -f
: "${MY_HOST:?}" "${REDIS_PORT:?}" "${BIND_ADDRESS:?}" "${REDIS_DATA_DIR:?}" "${REDIS_PASSWORD:?}"
: "${MASTER_NAME:?}" "${SENTINEL_NODES:?}" "${REDIS_NODES:?}" "${BOOTSTRAP_MASTER:?}"
: "${CONFIG_TEMPLATE:?}" "${CONFIG_FILE:?}"
# shellcheck source-path=SCRIPTDIR source=discover.sh
. "$(dirname "$0")/discover.sh"
SERVER=$(command -v valkey-server || command -v redis-server)
SELF="$MY_HOST:$REDIS_PORT"

# promote_a_replica: have a Sentinel fail over now, without waiting for down-after-milliseconds.
# Fails when none accepts, e.g. NOGOODSLAVE: no replica is fit to take over.
promote_a_replica() {
    for sentinel in $SENTINEL_NODES; do
        case $(ask "$sentinel" SENTINEL FAILOVER "$MASTER_NAME") in
        OK | INPROG*)
            log "the Sentinels still name this server; $sentinel promotes a replica, whose data is newer than our snapshot"
            return 0
            ;;
        NOGOOD*)
            log "the Sentinels still name this server and have no replica fit to promote"
            return 1
            ;;
        esac
    done
    return 1
}

choose_master() {
    status=0
    master=$(sentinel_master) || status=$?
    case $status in
    0)
        if [ "$master" = "$SELF" ]; then
            if [ -n "$(claimed_masters)" ]; then
                log "the Sentinels name this server but $(claimed_masters) claims the role; waiting"
                return 1
            fi
            if followed_masters | grep -qxF "$SELF" && promote_a_replica; then
                return 1
            fi
        fi
        log "the Sentinels name $master"
        ;;
    2)
        log "the Sentinels disagree or are failing over; waiting"
        return 1
        ;;
    *)
        status=0
        master=$(member_master) || status=$?
        case $status in
        0) log "no Sentinel answers; the servers name $master" ;;
        1)
            if [ "$SELF" != "$BOOTSTRAP_MASTER" ]; then
                log "no Sentinel answers and no server knows a master; waiting for $BOOTSTRAP_MASTER"
                return 1
            fi
            log "no Sentinel answers and no server knows a master; bootstrapping as master"
            master=$SELF
            ;;
        *)
            log "no Sentinel answers and several servers claim the master role; waiting"
            return 1
            ;;
        esac
        ;;
    esac
    MASTER=$master
}

wait_for_master choose_master
umask 077
render "$CONFIG_TEMPLATE" >"$CONFIG_FILE"
if [ "$MASTER" != "$SELF" ]; then
    echo "replicaof ${MASTER%:*} ${MASTER##*:}" >>"$CONFIG_FILE"
fi
exec "$SERVER" "$CONFIG_FILE"
