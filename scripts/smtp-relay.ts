/**
 * The local stack's SMTP server (started by scripts/stack-up.sh; not part of the product).
 *
 * Listens on 127.0.0.1:$STACK_SMTP_PORT (host: $STACK_SMTP_HOST) without TLS and without required authentication (AUTH is
 * offered and any credentials are accepted, so a client configured with SMTP_USER works too), and
 * hands every message, byte for byte and with its SMTP envelope, to Dovecot's LMTP listener on
 * 127.0.0.1:$STACK_LMTP_PORT (host: $STACK_LMTP_HOST), which files it in each recipient's INBOX. People and tests then read
 * the reports over IMAP.
 *
 * - Recipients that are not local users ($M2W_RELAY_RECIPIENTS, comma-separated; empty = let
 *   Dovecot decide) are refused at RCPT time with 550.
 * - The SMTP transaction succeeds only once LMTP has accepted the message for every recipient. A
 *   failed delivery answers 451 (the sender retries), or 550 when Dovecot refused it permanently.
 * - One log line per message on stdout.
 * - With STACK_MAIL_AUTH=oauth2 (the stack's OAuth2 mode) it offers only AUTH XOAUTH2 and requires it: each token is
 *   checked with the local token endpoint's introspection ($STACK_OAUTH_INTROSPECT_URL, scripts/oauth-server.ts)
 *   and must belong to the user it logs in as; a password login is refused.
 */
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';

// Loopback by default; docker-compose.yml sets STACK_SMTP_HOST=0.0.0.0 and STACK_LMTP_HOST=mail.
const SMTP_HOST = process.env.STACK_SMTP_HOST || '127.0.0.1';
const SMTP_PORT = Number(process.env.STACK_SMTP_PORT ?? 10025);
const LMTP_HOST = process.env.STACK_LMTP_HOST || '127.0.0.1';
const LMTP_PORT = Number(process.env.STACK_LMTP_PORT ?? 10024);
const MAX_MESSAGE_BYTES = 50 * 1024 * 1024;
const OAUTH2 = process.env.STACK_MAIL_AUTH === 'oauth2';
const INTROSPECT_URL = process.env.STACK_OAUTH_INTROSPECT_URL ?? '';
if (OAUTH2 && !INTROSPECT_URL) {
  console.error('smtp-relay: STACK_MAIL_AUTH=oauth2 needs STACK_OAUTH_INTROSPECT_URL');
  process.exit(1);
}

/** Does the token endpoint say `token` is live and belongs to `user`? (RFC 7662 introspection.) */
async function tokenValidFor(user: string, token: string): Promise<boolean> {
  const res = await fetch(INTROSPECT_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
    signal: AbortSignal.timeout(10_000),
  });
  const answer = (await res.json()) as { active?: boolean; email?: string; username?: string };
  const owner = (answer.email ?? answer.username ?? '').toLowerCase();
  return res.ok && answer.active === true && owner === user.toLowerCase();
}
const LOCAL_RECIPIENTS = new Set(
  (process.env.M2W_RELAY_RECIPIENTS ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean),
);

type SmtpError = Error & { responseCode?: number };

function smtpError(responseCode: number, message: string): SmtpError {
  const err: SmtpError = new Error(message);
  err.responseCode = responseCode;
  return err;
}

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

const lmtp = nodemailer.createTransport({
  host: LMTP_HOST,
  port: LMTP_PORT,
  lmtp: true,
  secure: false,
  ignoreTLS: true,
  name: 'smtp-relay.mail2waf.test',
  connectionTimeout: 10_000,
  greetingTimeout: 10_000,
  socketTimeout: 60_000,
});

async function readAll(stream: SMTPServerDataStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function messageId(raw: Buffer): string {
  const headerEnd = raw.indexOf('\r\n\r\n');
  const headers = raw.subarray(0, headerEnd === -1 ? Math.min(raw.length, 64 * 1024) : headerEnd).toString('latin1');
  const m = /^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(headers);
  return m?.[1]?.replace(/\s+/g, ' ').trim() || '-';
}

async function deliver(session: SMTPServerSession, raw: Buffer): Promise<void> {
  const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  const to = session.envelope.rcptTo.map((r) => r.address);
  const summary = `from=<${from}> to=${to.map((t) => `<${t}>`).join(',')} size=${raw.length} msgid=${messageId(raw)}`;
  try {
    const info = await lmtp.sendMail({ envelope: { from, to }, raw });
    if (info.rejected.length > 0) {
      // LMTP answers per recipient; some took the message, some did not. Fail the whole transaction
      // so that the sender notices (a retry may duplicate the message for the others).
      log(`FAILED ${summary} lmtp-rejected=${info.rejected.join(',')} accepted=${info.accepted.join(',')}`);
      throw smtpError(451, `4.3.0 Local delivery failed for ${info.rejected.join(', ')}, try again later`);
    }
    log(`delivered ${summary} lmtp="${info.response}"`);
  } catch (err) {
    const e = err as SmtpError;
    if (e.responseCode === 451 && e.message.startsWith('4.3.0')) throw e;
    const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600;
    log(`FAILED ${summary} error="${e.message.replace(/\s+/g, ' ')}"`);
    throw permanent
      ? smtpError(550, `5.1.1 Local delivery refused: ${e.message.replace(/\s+/g, ' ')}`)
      : smtpError(451, `4.3.0 Local delivery failed (${e.message.replace(/\s+/g, ' ')}), try again later`);
  }
}

const server = new SMTPServer({
  name: 'smtp.mail2waf.test',
  banner: 'mail2waf local SMTP relay (delivers to Dovecot LMTP)',
  secure: false,
  disabledCommands: ['STARTTLS'],
  authOptional: !OAUTH2,
  allowInsecureAuth: true,
  authMethods: OAUTH2 ? ['XOAUTH2'] : ['PLAIN', 'LOGIN'],
  size: MAX_MESSAGE_BYTES,
  closeTimeout: 2_000,
  logger: false,
  onAuth(auth, _session, callback) {
    if (!OAUTH2) {
      callback(null, { user: auth.username ?? 'anonymous' });
      return;
    }
    const user = auth.username ?? '';
    if (auth.method !== 'XOAUTH2' || !auth.accessToken) {
      callback(smtpError(535, '5.7.8 only XOAUTH2 is accepted here'));
      return;
    }
    tokenValidFor(user, auth.accessToken).then(
      (valid) => {
        log(`auth XOAUTH2 user=<${user}> ${valid ? 'accepted' : 'refused'}`);
        // XOAUTH2's failure answer: the client sees the JSON status, then 535, and may retry with a new token.
        if (valid) callback(null, { user });
        else callback(null, { data: { status: '401', schemes: 'bearer', scope: 'mail' } });
      },
      (err: Error) => {
        log(`auth XOAUTH2 user=<${user}> introspection failed: ${err.message}`);
        callback(smtpError(454, '4.7.0 temporary authentication failure'));
      },
    );
  },
  onRcptTo(address, _session, callback) {
    if (LOCAL_RECIPIENTS.size > 0 && !LOCAL_RECIPIENTS.has(address.address.toLowerCase())) {
      log(`refused rcpt=<${address.address}> (not a local mailbox)`);
      callback(smtpError(550, `5.1.1 <${address.address}>: no such mailbox here`));
      return;
    }
    callback();
  },
  onData(stream, session, callback) {
    readAll(stream)
      .then((raw) => {
        if (stream.sizeExceeded) throw smtpError(552, `5.3.4 Message exceeds ${MAX_MESSAGE_BYTES} bytes`);
        return deliver(session, raw);
      })
      .then(
        () => callback(null, 'Delivered to local mailbox'),
        (err: SmtpError) => callback(err),
      );
  },
});

server.on('error', (err) => log(`server error: ${err.message}`));

server.listen(SMTP_PORT, SMTP_HOST, () => {
  log(
    `listening on ${SMTP_HOST}:${SMTP_PORT}, delivering via LMTP ${LMTP_HOST}:${LMTP_PORT}` +
      (LOCAL_RECIPIENTS.size ? `, local recipients: ${[...LOCAL_RECIPIENTS].join(', ')}` : ''),
  );
});

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  log(`${signal}: shutting down`);
  const force = setTimeout(() => process.exit(0), 5_000);
  force.unref();
  server.close(() => {
    lmtp.close();
    process.exit(0);
  });
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
