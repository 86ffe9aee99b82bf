#!/usr/bin/env bash
# Local single-node Apache Kafka 4.x (KRaft, combined broker+controller) on loopback, for the demo,
# the tests and CI. Jars come from Maven Central through Maven and are cached in the run directory,
# so a second start does not download again.
#
#   infra/kafka/kafka.sh fetch | up | down | status
#
# Environment: KAFKA_PORT (default 19092; the controller listens on KAFKA_PORT+1),
# DISTILLWATCH_RUN_DIR (default <repo>/.run), KAFKA_HEAP (default -Xmx512m).
# KAFKA_SASL=1: the client listener is SASL_PLAINTEXT with SCRAM-SHA-256 and SCRAM-SHA-512 (a
# real cluster's set-up, for tests); the user KAFKA_SASL_USER / KAFKA_SASL_PASSWORD (default
# distillwatch / distillwatch-secret) is created when the log directory is formatted. Give the same
# KAFKA_SASL to `down` and `status` (the broker's directory is kafka-PORT-sasl).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
run_dir=${DISTILLWATCH_RUN_DIR:-$repo/.run}
port=${KAFKA_PORT:-19092}
controller_port=$((port + 1))
sasl=${KAFKA_SASL:-0}
sasl_user=${KAFKA_SASL_USER:-distillwatch}
sasl_password=${KAFKA_SASL_PASSWORD:-distillwatch-secret}
kafka_dir=$run_dir/kafka-$port$([ "$sasl" = 1 ] && echo -sasl || true)
jars=$run_dir/kafka-jars
pid_file=$kafka_dir/kafka.pid
log_file=$kafka_dir/kafka.log

die() { echo "kafka.sh: $*" >&2; exit 1; }

port_busy() {
  # bash's /dev/tcp: succeeds when something accepts connections on the port.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

fetch() {
  if [ -f "$jars/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch the Kafka jars; install it (apt-get install maven) or point KAFKA_BOOTSTRAP_SERVERS at an existing broker."
  command -v java >/dev/null || die "Java 17+ is needed to run the local broker; install it (apt-get install openjdk-17-jre-headless) or point KAFKA_BOOTSTRAP_SERVERS at an existing broker."
  echo "kafka.sh: fetching Kafka jars with Maven into $jars (once)"
  rm -rf "$jars"; mkdir -p "$jars"
  # Maven 3.8's console still writes colour resets in batch mode: its output is shown without them
  local status=0
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$jars" -DincludeScope=runtime >"$jars/maven.log" 2>&1 || status=$?
  sed 's/\x1b\[[0-9;]*m//g' "$jars/maven.log" | grep -v '^$' || true
  [ "$status" = 0 ] || die "Maven could not fetch the Kafka jars (see above). Check network access to Maven Central."
  touch "$jars/.complete"
}

running_pid() {
  [ -f "$pid_file" ] || return 1
  local pid; pid=$(cat "$pid_file")
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

java_cmd() {
  # $1: main class; the rest are its arguments. Called in a subshell (`( java_cmd … ) &`), the
  # `exec` makes that subshell the JVM itself, so the pid we record is the broker's.
  local main=$1; shift
  exec java ${KAFKA_HEAP:--Xmx512m} -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$here/log4j2.properties" \
    -cp "$jars/*" "$main" "$@"
}

client_listener() {
  if [ "$sasl" = 1 ]; then echo SASL_PLAINTEXT; else echo PLAINTEXT; fi
}

sasl_config() {
  # SCRAM needs its users in the metadata log: created by `format --add-scram` (format_args)
  local jaas="org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$sasl_password-admin\";"
  cat <<CONF
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=$jaas
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=$jaas
CONF
}

format_args() {
  [ "$sasl" = 1 ] || return 0
  printf '%s\n' --add-scram "SCRAM-SHA-512=[name=admin,password=$sasl_password-admin]" \
    --add-scram "SCRAM-SHA-256=[name=$sasl_user,password=$sasl_password]" \
    --add-scram "SCRAM-SHA-512=[name=$sasl_user,password=$sasl_password]"
}

write_config() {
  mkdir -p "$kafka_dir/data"
  local listener; listener=$(client_listener)
  cat > "$kafka_dir/server.properties" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=$listener://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=$listener://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=$listener:$listener,CONTROLLER:PLAINTEXT
inter.broker.listener.name=$listener
log.dirs=$kafka_dir/data
num.partitions=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
log.retention.hours=168
log.segment.bytes=67108864
CONF
  if [ "$sasl" = 1 ]; then sasl_config >> "$kafka_dir/server.properties"; fi
}

up() {
  if pid=$(running_pid); then echo "kafka.sh: broker already running (pid $pid) on 127.0.0.1:$port"; return 0; fi
  if port_busy "$port"; then die "port $port is already in use by another program; set KAFKA_PORT to a free port, or set KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$port to use that broker."; fi
  if port_busy "$controller_port"; then die "controller port $controller_port (KAFKA_PORT+1) is already in use; set KAFKA_PORT to another value."; fi
  fetch
  write_config
  if [ "$sasl" = 1 ] && [ "$(cat "$kafka_dir/scram.users" 2>/dev/null)" != "$sasl_user:$sasl_password" ]; then
    rm -rf "$kafka_dir/data"; mkdir -p "$kafka_dir/data"  # SCRAM users are set when formatting: start afresh
    echo "$sasl_user:$sasl_password" > "$kafka_dir/scram.users"
  fi
  if [ ! -f "$kafka_dir/data/meta.properties" ]; then
    local extra=(); mapfile -t extra < <(format_args)
    ( java_cmd kafka.tools.StorageTool format -t "$( (java_cmd kafka.tools.StorageTool random-uuid) )" \
      -c "$kafka_dir/server.properties" "${extra[@]}" ) >"$kafka_dir/format.log" 2>&1 \
      || { cat "$kafka_dir/format.log" >&2; die "formatting the log directory $kafka_dir/data failed (above)."; }
  fi
  ( java_cmd kafka.Kafka "$kafka_dir/server.properties" ) >"$log_file" 2>&1 </dev/null &
  echo $! > "$pid_file"
  for _ in $(seq 1 120); do
    if port_busy "$port" && grep -q "Kafka Server started\|KafkaRaftServer.*started\|Transition from STARTING to STARTED" "$log_file" 2>/dev/null; then
      echo "kafka.sh: broker up on 127.0.0.1:$port ($(client_listener), pid $(cat "$pid_file"), log $log_file)"; return 0
    fi
    if ! running_pid >/dev/null; then
      tail -n 30 "$log_file" >&2; die "the broker exited during start-up (log above, full log in $log_file)."
    fi
    sleep 0.5
  done
  tail -n 30 "$log_file" >&2
  down
  die "the broker did not answer on 127.0.0.1:$port within 60 s (log above)."
}

down() {
  local pid
  if ! pid=$(running_pid); then rm -f "$pid_file"; echo "kafka.sh: no broker running on port $port"; return 0; fi
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pid_file"
  echo "kafka.sh: broker stopped"
}

status() {
  if pid=$(running_pid); then echo "running (pid $pid) on 127.0.0.1:$port"; else echo "not running"; return 1; fi
}

case "${1:-}" in
  fetch) fetch ;;
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 fetch|up|down|status" >&2; exit 2 ;;
esac
