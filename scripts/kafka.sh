#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, combined broker+controller) on 127.0.0.1 for eastwatch.
#
#   scripts/kafka.sh fetch    resolve the broker's jars from Maven Central (once; ~/.m2 caches them)
#   scripts/kafka.sh start    fetch if needed, format storage if new, start in the background, wait until it serves
#   scripts/kafka.sh run      same, but in the foreground (exec): used by `eastwatch start`, which owns the child
#   scripts/kafka.sh stop     SIGTERM, wait for a clean shutdown (SIGKILL after 30 s)
#   scripts/kafka.sh status   exit 0 when the broker answers on its port
#
# Environment: EASTWATCH_HOME (default ./.eastwatch), KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1),
# KAFKA_HEAP (512m), KAFKA_LIBS (where the jars go, default $EASTWATCH_HOME/kafka/libs). Every command is idempotent. Logs go to $EASTWATCH_HOME/kafka/logs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="${EASTWATCH_HOME:-$PWD/.eastwatch}"
kdir="$home/kafka"
port="${KAFKA_PORT:-9092}"
cport="${KAFKA_CONTROLLER_PORT:-$((port + 1))}"
libs="${KAFKA_LIBS:-$kdir/libs}"
data="$kdir/data-$port"
logs="$kdir/logs-$port"
conf="$kdir/server-$port.properties"
pidfile="$kdir/broker-$port.pid"

log() { echo "kafka.sh: $*" >&2; }

fetch() {
  if [ -f "$libs/.complete" ] && [ "$(cat "$libs/.complete")" = "$(sha1sum < "$here/kafka/pom.xml")" ]; then
    return 0
  fi
  log "resolving Kafka jars with mvn into $libs"
  rm -rf "$libs" && mkdir -p "$libs" "$kdir"
  mvn -q -B -Dstyle.color=never -f "$here/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs" > "$kdir/mvn.log" 2>&1 || { cat "$kdir/mvn.log" >&2; return 1; }
  sha1sum < "$here/kafka/pom.xml" > "$libs/.complete"
}

serving() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

configure() {
  mkdir -p "$data" "$logs"
  cat > "$conf" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$data
num.partitions=6
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=24
EOF
  cat > "$kdir/log4j2-$port.properties" <<EOF
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $logs/server.log
appender.file.filePattern = $logs/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
EOF
  if [ ! -f "$data/meta.properties" ]; then
    log "formatting KRaft storage in $data"
    local tool=(java -cp "$libs/*" -Dlog4j2.configurationFile="$kdir/log4j2-$port.properties" kafka.tools.StorageTool)
    "${tool[@]}" format -t "$("${tool[@]}" random-uuid)" -c "$conf" >> "$logs/format.log" 2>&1
  fi
}

java_cmd=()
set_java_cmd() {
  java_cmd=(java "-Xmx${KAFKA_HEAP:-512m}" -Xms128m -XX:+UseG1GC
    -Dlog4j2.configurationFile="$kdir/log4j2-$port.properties" -cp "$libs/*" kafka.Kafka "$conf")
}

wait_serving() {
  local pid="$1"
  for _ in $(seq 1 120); do
    if serving; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "broker exited during start; see $logs/server.log and $logs/stdout.log"
      tail -n 30 "$logs/stdout.log" >&2 || true
      return 1
    fi
    sleep 0.5
  done
  log "broker did not serve on 127.0.0.1:$port within 60 s"
  return 1
}

running_pid() {
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then cat "$pidfile"; fi
}

cmd="${1:-start}"
case "$cmd" in
  fetch) fetch ;;
  start)
    pid="$(running_pid)"
    if [ -n "$pid" ] && serving; then log "already serving on 127.0.0.1:$port (pid $pid)"; exit 0; fi
    if serving; then log "port $port is taken by another process"; exit 1; fi
    fetch && configure
    set_java_cmd
    nohup "${java_cmd[@]}" > "$logs/stdout.log" 2>&1 < /dev/null &
    echo $! > "$pidfile"
    wait_serving "$!"
    log "serving on 127.0.0.1:$port (pid $(cat "$pidfile"), logs in $logs)"
    ;;
  run)
    fetch && configure
    echo $$ > "$pidfile"
    set_java_cmd
    exec "${java_cmd[@]}" >> "$logs/stdout.log" 2>&1
    ;;
  stop)
    pid="$(running_pid)"
    if [ -z "$pid" ]; then log "not running"; exit 0; fi
    kill -TERM "$pid"
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; log "stopped"; exit 0; }
      sleep 0.5
    done
    log "broker did not stop within 30 s; killing"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
    ;;
  status) serving ;;
  *) echo "usage: $0 fetch|start|run|stop|status" >&2; exit 2 ;;
esac
