#!/usr/bin/env bash
# A real Apache Kafka broker in KRaft mode (combined broker+controller) on 127.0.0.1:9092
# (PARLEY_KAFKA_PORT; its controller on PARLEY_KAFKA_CONTROLLER_PORT, default 9093).
# Jars come from Maven Central through mvn (cached in ~/.cache/parley: the jars and mvn's own
# repository), one pinned version, the same as docker-compose.yml's image.
source "$(dirname "$0")/lib.sh"
NAME=kafka
HERE="$(cd "$(dirname "$0")" && pwd)"
DIR="$INFRA_STATE/$NAME"
KAFKA_VERSION=3.9.2
LIBS="$INFRA_CACHE/kafka-$KAFKA_VERSION/libs"
PORT="${PARLEY_KAFKA_PORT:-9092}"
CONTROLLER_PORT="${PARLEY_KAFKA_CONTROLLER_PORT:-9093}"

fetch_jars() {
  if [ -f "$LIBS/.complete" ]; then return 0; fi
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null || apt_install maven
  infra_log "$NAME" "fetching Kafka $KAFKA_VERSION jars with mvn"
  rm -rf "$LIBS" && mkdir -p "$LIBS"
  mvn -q -B -Dmaven.repo.local="$INFRA_CACHE/m2" -f "$HERE/kafka/pom.xml" dependency:copy-dependencies -Dkafka.version="$KAFKA_VERSION" -DoutputDirectory="$LIBS" >&2
  touch "$LIBS/.complete"
}

up() {
  if is_running "$NAME"; then infra_log "$NAME" "already running (PID $(cat "$DIR/pid"))"; return 0; fi
  fetch_jars
  mkdir -p "$DIR/data"
  sed -e "s#^log.dirs=.*##" -e "s#:9092#:$PORT#g" -e "s#:9093#:$CONTROLLER_PORT#g" \
    "$HERE/kafka/server.properties" >"$DIR/server.properties"
  echo "log.dirs=$DIR/data" >>"$DIR/server.properties"
  if [ ! -f "$DIR/data/meta.properties" ]; then
    local cluster_id
    cluster_id="$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
    java -cp "$LIBS/*" -Dlog4j.configuration="file:$HERE/kafka/log4j.properties" kafka.tools.StorageTool format \
      -t "$cluster_id" -c "$DIR/server.properties" --ignore-formatted >"$DIR/format.log" 2>&1
  fi
  start_daemon "$NAME" "$DIR/kafka.log" java -Xms256m -Xmx768m -XX:+UseG1GC -cp "$LIBS/*" \
    -Dlog4j.configuration="file:$HERE/kafka/log4j.properties" kafka.Kafka "$DIR/server.properties"
  if ! wait_for_port 127.0.0.1 "$PORT" 120; then
    infra_log "$NAME" "port $PORT did not open; log follows"
    tail -30 "$DIR/kafka.log" >&2
    return 1
  fi
  # An open port is not a working broker: ask for metadata with the product's own client.
  if ! node "$HERE/kafka/ready.js" "127.0.0.1:$PORT" 60000; then
    infra_log "$NAME" "broker did not answer metadata requests; log follows"
    tail -30 "$DIR/kafka.log" >&2
    return 1
  fi
  infra_log "$NAME" "ready on 127.0.0.1:$PORT (Kafka $KAFKA_VERSION, KRaft)"
}

case "${1:-up}" in
  up) up ;;
  prepare) fetch_jars ;;
  down) stop_daemon "$NAME" ;;
  status) if is_running "$NAME"; then echo running; else echo stopped; fi ;;
  *) echo "usage: $0 up|prepare|down|status" >&2; exit 2 ;;
esac
