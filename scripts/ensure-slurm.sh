#!/usr/bin/env bash
# A one-node SLURM on this machine, for the test of the SLURM recipe (tests/sweep/test_sweep_slurm.py).
#
#   scripts/ensure-slurm.sh install   install Debian's slurm-wlm and munge if missing (needs root)
#   scripts/ensure-slurm.sh start     start munged, slurmctld and slurmd (loopback only, 2 CPUs);
#                                     prints `export SLURM_CONF=...` for the client commands
#   scripts/ensure-slurm.sh stop      stop what `start` started
#
# Everything lives in $SIM_SLURM_DIR (default /tmp/sim-slurm): slurm.conf, state, logs, pid files.
# Containers have no systemd and often no writable cgroups, so the configuration uses no cgroup
# plugin: processes are tracked by /proc (proctrack/linuxproc), tasks are not bound (task/none),
# and there is no accounting. Good for a test, not for a shared cluster.
set -euo pipefail

DIR="${SIM_SLURM_DIR:-/tmp/sim-slurm}"
CONF="$DIR/slurm.conf"
NODE=simnode

die() { echo "ensure-slurm: $*" >&2; exit 1; }

have() { command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && command -v sbatch >/dev/null; }

install() {
    if have; then return 0; fi
    local as
    if [ "$(id -u)" = 0 ]; then as=""; elif sudo -n true 2>/dev/null; then as="sudo"; else
        die "the SLURM test needs slurm-wlm and munge; install them with: sudo apt-get install -y slurm-wlm munge"
    fi
    command -v apt-get >/dev/null || die "SLURM is not installed and there is no apt-get; install slurm-wlm and munge"
    echo "ensure-slurm: installing slurm-wlm and munge (Debian packages) for the SLURM test"
    $as apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $as apt-get install -y -qq slurm-wlm munge >/dev/null
    have || die "slurm-wlm installed but its commands are not on PATH"
}

write_conf() {
    mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
    local host mem
    host="$(hostname -s)"
    # Declare less memory than the machine has, or slurmd reports the node invalid.
    mem=$(( $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) / 2 ))
    cat > "$CONF" <<EOF
ClusterName=sim
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=6817
SlurmdPort=6818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$host CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
    have || die "SLURM is not installed; run: scripts/ensure-slurm.sh install (as root)"
    write_conf
    export SLURM_CONF="$CONF"
    if ! munge -n </dev/null >/dev/null 2>&1; then
        [ -r /etc/munge/munge.key ] || die "no /etc/munge/munge.key (create it with: mungekey --create)"
        # munged's own folder (its user may not reach $DIR); we remember its pid to stop it.
        mkdir -p /run/munge
        rm -f /run/munge/sim-munged.pid
        if [ "$(id -u)" = 0 ] && id munge >/dev/null 2>&1; then
            # munged refuses to run as root: run it as its own user, as its service would.
            chown munge:munge /run/munge
            su -s /bin/sh munge -c "munged --pid-file=/run/munge/sim-munged.pid"
        else
            munged --pid-file=/run/munge/sim-munged.pid
        fi
        for _ in $(seq 50); do munge -n </dev/null >/dev/null 2>&1 && break; sleep 0.1; done
        munge -n </dev/null >/dev/null 2>&1 || die "munged did not start (see /var/log/munge/munged.log)"
        cp /run/munge/sim-munged.pid "$DIR/munged.pid"
    fi
    running "$DIR/slurmctld.pid" || slurmctld -f "$CONF" || die "slurmctld did not start: $(tail -3 "$DIR/log/slurmctld.log" 2>/dev/null)"
    running "$DIR/slurmd.pid" || slurmd -f "$CONF" -N "$NODE" || die "slurmd did not start: $(tail -3 "$DIR/log/slurmd.log" 2>/dev/null)"
    local state=""
    for _ in $(seq 60); do
        state="$(sinfo -h -N -n "$NODE" -o %T 2>/dev/null || true)"
        case "$state" in idle*|mixed*|allocated*) echo "export SLURM_CONF=$CONF"; return 0 ;; esac
        sleep 0.5
    done
    die "node $NODE is '${state:-unknown}' after 30 s, not idle: $(tail -3 "$DIR/log/slurmd.log" 2>/dev/null | tr '\n' ' ')"
}

stop() {
    export SLURM_CONF="$CONF"
    scancel --user="$(id -un)" 2>/dev/null || true
    for pidfile in "$DIR/slurmd.pid" "$DIR/slurmctld.pid" "$DIR/munged.pid"; do
        if running "$pidfile"; then
            kill "$(cat "$pidfile")"
            for _ in $(seq 50); do running "$pidfile" || break; sleep 0.1; done
        fi
        rm -f "$pidfile"
    done
}

case "${1:-start}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    *) die "unknown command '${1}'; allowed: install, start, stop" ;;
esac
