#!/usr/bin/env bash
# A throwaway three-node MariaDB Galera cluster on loopback, for tests/tests/galera.rs.
#
# usage: tests/galera.sh start [DIR]   create and start a new cluster in DIR (a new temporary
#                                      directory when omitted); prints DIR
#        tests/galera.sh urls DIR      the three nodes' admin URLs, comma-separated, as
#                                      TEST_GALERA_URLS takes them
#        tests/galera.sh stop DIR      stop the nodes and remove DIR
#
# Each node has a data directory of its own made by mariadb-install-db and owned by the mysql
# user (the rsync state transfer fails on permissions when nodes run as root), a defaults file
# of its own (nothing from /etc/mysql), and its own loopback ports: SQL, group communication,
# incremental and full state transfer. Node 1 starts a new cluster; nodes 2 and 3 join it in
# turn. Root reaches every node over TCP from 127.0.0.1 without a password. A new cluster per
# run: stopping all nodes leaves only the last one safe to bootstrap from.
#
# galera-4 and rsync come from Debian's packages; they are installed when missing.
set -euo pipefail

NODES=(1 2 3)

die() {
  echo "error: $*" >&2
  exit 1
}

usage() {
  sed -n '4,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

install_missing() {
  local missing=() package
  for package in galera-4 rsync; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  echo "installing ${missing[*]}" >&2
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 \
    || { "${sudo[@]}" apt-get update -q >&2 && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2; }
}

# Whether something listens on loopback port $1.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A base port such that base+1..base+3 (SQL), +11..+13 (group communication), +21..+23
# (incremental transfer) and +31..+33 (state transfer) are all free.
free_base() {
  local attempt base offset node busy
  for attempt in $(seq 50); do
    base=$((20000 + (RANDOM % 400) * 100))
    busy=0
    for offset in 0 10 20 30; do
      for node in "${NODES[@]}"; do
        if listening $((base + offset + node)); then busy=1; fi
      done
    done
    ((busy)) || { echo "$base"; return 0; }
  done
  die "no free loopback ports for the cluster"
}

client() {
  local node=$1
  shift
  mariadb --no-defaults --protocol=socket -S "$dir/node$node/mysqld.sock" -u root -N -B "$@"
}

status_of() {
  client "$1" -e "SHOW STATUS LIKE '$2'" 2>/dev/null | cut -f2
}

# Prints the end of node $1's log and fails.
node_failed() {
  echo "--- node $1 log (${dir}/node$1/error.log):" >&2
  tail -n 40 "$dir/node$1/error.log" >&2 2>/dev/null || true
  stop_nodes
  rm -rf "$dir"
  die "Galera node $1 did not $2"
}

# Waits up to $3 seconds for node $1 to be synced with a cluster of at least $2 nodes.
wait_synced() {
  local node=$1 size=$2 deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    if [ -s "$dir/node$node/mysqld.pid" ] && ! kill -0 "$(cat "$dir/node$node/mysqld.pid")" 2>/dev/null; then
      node_failed "$node" "keep running"
    fi
    if [ "$(status_of "$node" wsrep_local_state_comment)" = Synced ] \
      && [ "$(status_of "$node" wsrep_cluster_size)" -ge "$size" ] 2>/dev/null; then
      return 0
    fi
    sleep 0.5
  done
  node_failed "$node" "join a cluster of $size within $3 s"
}

write_config() {
  local node=$1 here="$dir/node$1" peers="" n
  for n in "${NODES[@]}"; do
    peers+="${peers:+,}127.0.0.1:$((base + 10 + n))"
  done
  cat >"$here/node.cnf" <<CNF
[mysqld]
user=mysql
datadir=$here/data
socket=$here/mysqld.sock
pid-file=$here/mysqld.pid
log-error=$here/error.log
port=$((base + node))
bind-address=127.0.0.1
skip-name-resolve
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
innodb_buffer_pool_size=64M
innodb_flush_log_at_trx_commit=2
wsrep_on=ON
wsrep_provider=$provider
wsrep_cluster_name=migrate-test
wsrep_cluster_address=gcomm://$peers
wsrep_node_name=node$node
wsrep_node_address=127.0.0.1:$((base + 10 + node))
wsrep_provider_options="base_port=$((base + 10 + node));gmcast.listen_addr=tcp://127.0.0.1:$((base + 10 + node));ist.recv_addr=127.0.0.1:$((base + 20 + node));gcache.size=64M"
wsrep_sst_receive_address=127.0.0.1:$((base + 30 + node))
wsrep_sst_method=rsync
CNF
}

start_node() {
  local node=$1
  shift
  # The server is started as root and runs as `user=mysql`; it outlives this script.
  nohup mariadbd --defaults-file="$dir/node$node/node.cnf" "$@" >>"$dir/node$node/error.log" 2>&1 </dev/null &
}

stop_nodes() {
  local node pid
  for node in 3 2 1; do
    pid=$(cat "$dir/node$node/mysqld.pid" 2>/dev/null) || continue
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -9 "$pid" 2>/dev/null || true
  done
}

start() {
  install_missing
  provider=$(dpkg -L galera-4 | grep -m1 '/libgalera_smm\.so$') || die "galera-4 has no libgalera_smm.so"
  id mysql >/dev/null 2>&1 || die "there is no mysql user: install mariadb-server"
  dir=${1:-$(mktemp -d "${TMPDIR:-/tmp}/galera-XXXXXX")}
  mkdir -p "$dir"
  base=$(free_base)
  echo "$base" >"$dir/base"
  local node
  for node in "${NODES[@]}"; do
    mkdir -p "$dir/node$node/data"
    write_config "$node"
  done
  chown -R mysql:mysql "$dir"
  chmod 755 "$dir"
  for node in "${NODES[@]}"; do
    mariadb-install-db --no-defaults --user=mysql --datadir="$dir/node$node/data" \
      --skip-test-db --auth-root-authentication-method=socket >"$dir/node$node/install.log" 2>&1 \
      || { cat "$dir/node$node/install.log" >&2; rm -rf "$dir"; die "mariadb-install-db failed for node $node"; }
  done
  start_node 1 --wsrep-new-cluster
  wait_synced 1 1 60
  # root@localhost authenticates by unix socket only: the tests connect over TCP. Made before
  # the others join, so the state transfer brings it along.
  client 1 -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
    GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
    CREATE DATABASE IF NOT EXISTS test;" || node_failed 1 "accept the TCP root account"
  for node in 2 3; do
    start_node "$node"
    wait_synced "$node" "$node" 120
  done
  echo "$dir"
}

urls() {
  local base node out=""
  base=$(cat "$dir/base" 2>/dev/null) || die "$dir holds no cluster started by tests/galera.sh"
  for node in "${NODES[@]}"; do
    out+="${out:+,}mysql://root@127.0.0.1:$((base + node))/test"
  done
  echo "$out"
}

command=${1:-}
case "$command" in
  start)
    start "${2:-}"
    ;;
  urls)
    [ $# -eq 2 ] || usage
    dir=$2
    urls
    ;;
  stop)
    [ $# -eq 2 ] || usage
    dir=$2
    [ -f "$dir/base" ] || die "$dir holds no cluster started by tests/galera.sh"
    stop_nodes
    rm -rf "$dir"
    ;;
  *)
    usage
    ;;
esac
