# Sourced by start-redis.sh, start-sentinel.sh and health.sh. Who is the master, according to the
# Sentinels and according to the Redis servers themselves? Addresses are `host:port` (the stable
# host names every process announces); lists are space-separated.
#
# Environment: REDIS_PASSWORD, MASTER_NAME, SENTINEL_NODES, REDIS_NODES; optional ASK_TIMEOUT
# (seconds per question, default 2), SELF (this process's own address, never asked).

CLI=$(command -v valkey-cli || command -v redis-cli)
# Both CLIs read the password from here; on the command line `ps` would show it.
export REDISCLI_AUTH="$REDIS_PASSWORD"

log() {
    echo "$(basename "$0"): $*" >&2
}

# ask ADDRESS COMMAND...: the raw reply; empty when the server does not answer in time.
ask() {
    address=$1
    shift
    timeout "${ASK_TIMEOUT:-2}" "$CLI" -h "${address%:*}" -p "${address##*:}" "$@" 2>/dev/null | tr -d '\r' || true
}

# field NAME TEXT: the value of `NAME:value` in an INFO reply.
field() {
    printf '%s\n' "$2" | sed -n "s/^$1://p"
}

# sentinel_master: the master every answering Sentinel names (status 0); no Sentinel answered (1);
# they disagree or one is failing over right now (2), so the answer is about to change.
sentinel_master() {
    found=
    for sentinel in $SENTINEL_NODES; do
        [ "$sentinel" != "${SELF:-}" ] || continue
        # shellcheck disable=SC2046  # split the two-line reply (host, port) into words
        set -- $(ask "$sentinel" SENTINEL get-master-addr-by-name "$MASTER_NAME")
        # Unreachable, master unknown, or an error reply (NOAUTH ...): no answer from this one.
        [ $# -eq 2 ] || continue
        case $2 in *[!0-9]*) continue ;; esac
        flags=$(ask "$sentinel" SENTINEL master "$MASTER_NAME" | awk 'previous == "flags" { print; exit } { previous = $0 }')
        case $flags in *failover_in_progress*) return 2 ;; esac
        if [ -z "$found" ]; then
            found="$1:$2"
        elif [ "$found" != "$1:$2" ]; then
            return 2
        fi
    done
    [ -n "$found" ] || return 1
    echo "$found"
}

# claimed_masters: the Redis servers (other than SELF) that report role:master right now.
claimed_masters() {
    for member in $REDIS_NODES; do
        [ "$member" != "${SELF:-}" ] || continue
        [ "$(field role "$(ask "$member" INFO replication)")" != master ] || echo "$member"
    done
}

# followed_masters: the distinct masters the reachable replicas are configured to follow.
followed_masters() {
    for member in $REDIS_NODES; do
        [ "$member" != "${SELF:-}" ] || continue
        info=$(ask "$member" INFO replication)
        [ "$(field role "$info")" = slave ] || continue
        echo "$(field master_host "$info"):$(field master_port "$info")"
    done | sort -u
}

# member_master: the master the Redis servers agree on, from what they claim or else from whom
# their replicas follow (status 0); none known (1); several claimed or followed (2).
member_master() {
    # shellcheck disable=SC2046
    set -- $(claimed_masters)
    if [ $# -eq 0 ]; then
        # shellcheck disable=SC2046
        set -- $(followed_masters)
    fi
    [ $# -le 1 ] || return 2
    [ $# -eq 1 ] || return 1
    echo "$1"
}

# render TEMPLATE: the template with every ${NAME} replaced by that environment variable, taken
# literally (a password may hold characters sed or gsub would interpret); unset names are errors.
render() {
    awk '{
        rest = $0; out = ""
        while (match(rest, /\$\{[A-Za-z_][A-Za-z0-9_]*\}/)) {
            name = substr(rest, RSTART + 2, RLENGTH - 3)
            if (!(name in ENVIRON)) { print "render: " name " is not set" > "/dev/stderr"; exit 1 }
            out = out substr(rest, 1, RSTART - 1) ENVIRON[name]
            rest = substr(rest, RSTART + RLENGTH)
        }
        print out rest
    }' "$1"
}

# wait_for_master CHOOSER: run CHOOSER (a function that sets MASTER, or fails to wait) once a
# second until it succeeds, for at most DISCOVERY_TIMEOUT seconds (default 120); then fail, so
# that the kubelet restarts the container with its backoff.
wait_for_master() {
    deadline=$(( $(date +%s) + ${DISCOVERY_TIMEOUT:-120} ))
    until "$1"; do
        if [ "$(date +%s)" -ge "$deadline" ]; then
            log "no master could be chosen within ${DISCOVERY_TIMEOUT:-120} s"
            return 1
        fi
        sleep 1
    done
}
