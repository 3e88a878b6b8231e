#!/bin/sh
# Kubernetes probes, run inside the container with its environment:
#   redis-alive    the server answers PING (or is still loading its dataset)
#   redis-ready    the master, or a replica whose link to the master is up: a rolling update
#                  waits for a restarted replica to sync before it takes down the next pod
#   sentinel-alive the Sentinel answers PING
# Environment: REDIS_PASSWORD, and REDIS_PORT or SENTINEL_PORT.
set -eu -f
# shellcheck source-path=SCRIPTDIR source=discover.sh
. "$(dirname "$0")/discover.sh"

case ${1:-} in
redis-alive)
    case $(ask "127.0.0.1:$REDIS_PORT" PING) in PONG | LOADING*) exit 0 ;; esac
    ;;
redis-ready)
    info=$(ask "127.0.0.1:$REDIS_PORT" INFO replication)
    case $(field role "$info"),$(field master_link_status "$info") in master, | slave,up) exit 0 ;; esac
    ;;
sentinel-alive)
    [ "$(ask "127.0.0.1:$SENTINEL_PORT" PING)" != PONG ] || exit 0
    ;;
*)
    log "usage: health.sh redis-alive|redis-ready|sentinel-alive"
    ;;
esac
exit 1
