/**
 * IMAP activities: list the pending messages, analyse one message, move messages out of the inbox.
 * Each call opens its own short connection: activities may run on any worker after a crash, and a long-lived
 * shared connection would be one more thing to recover.
 */
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ImapFlow } from 'imapflow';
import { extractFromMessage } from '../extraction/message';
import { createTrustGate, type AuthenticateDeps } from './authenticate';
import { imapTlsOptions } from './mail-tls';
import { ErrorTypes } from '../shared/constants';
import type { MailOAuth2 } from '../oauth';
import { oauth2Failure } from '../oauth/failure';
import { capNotes, capOptional, capString, PayloadLimits } from '../shared/limits';
import type { MessageAnalysis, MessageRef } from '../shared/types';
import type { MetricsDeps } from '../metrics';

export interface ImapSettings {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  /** The password (IMAP_AUTH=password)… */
  password?: string;
  /** …or the OAuth2 token source (IMAP_AUTH=oauth2): XOAUTH2 or OAUTHBEARER, whichever the server offers. */
  oauth2?: MailOAuth2;
  /** IMAP_ALLOW_PLAINTEXT: connect without TLS when the server offers none (loopback always may). */
  allowPlaintext?: boolean;
}

/** IMAP settings, plus the trust gate's settings and DNS resolver (analyzeMessage authenticates each message). */
export interface ImapDeps extends AuthenticateDeps {
  imap: ImapSettings;
  processedMailbox: string;
  quarantineMailbox: string;
  maxMessageBytes: number;
}

/** Time left at the end of an attempt to check trust and answer, after extraction spent its deadline. */
const ANALYSIS_MARGIN_MS = 20_000;

/** A message with more addresses than this is truncated (with a note) to keep workflow payloads small. */
export const MAX_INDICATORS_PER_MESSAGE = 5000;

/**
 * Every string that came from the mail, cut where it enters the workflow payload: an outsider controls the
 * subject, the sender, attachment names (in `where`) and what notes quote, and a 10 KB message could otherwise
 * produce a result over Temporal's 2 MB payload limit.
 */
export function capAnalysis(a: MessageAnalysis): MessageAnalysis {
  const out: MessageAnalysis = {
    ...a,
    indicators: a.indicators.map((i, n) => ({
      value: i.value,
      version: i.version,
      where:
        n < PayloadLimits.indicatorsWithPlaces
          ? i.where.slice(0, PayloadLimits.wherePerIndicator).map((w) => capString(w, PayloadLimits.where))
          : [],
    })),
    notes: capNotes(a.notes),
  };
  for (const [key, max] of [
    ['messageId', PayloadLimits.messageId],
    ['from', PayloadLimits.from],
    ['subject', PayloadLimits.subject],
    ['reason', PayloadLimits.reason],
  ] as const) {
    const v = capOptional(out[key], max);
    if (v === undefined) delete out[key];
    else out[key] = v;
  }
  return out;
}

export interface ListPendingInput {
  mailbox: string;
  limit: number;
}

export interface ListPendingResult {
  uidValidity: string;
  uids: number[];
  /** Messages in the mailbox beyond the limit, left for the next sweep. */
  remaining: number;
}

/** IMAP keyword of a message that waits in the inbox for its approval workflow. */
export const HELD_KEYWORD = 'mail2waf-held';

export interface MarkHeldInput {
  mailbox: string;
  uidValidity: string;
  uids: number[];
  approvalId: string;
}

export interface MoveInput {
  mailbox: string;
  uidValidity: string;
  moves: { uid: number; to: 'processed' | 'quarantine'; reasonCode?: string }[];
}

function imapFailure(err: unknown, settings: ImapSettings, mailbox?: string): never {
  const e = err as Error & {
    authenticationFailed?: boolean;
    mailboxMissing?: boolean;
    tlsFailed?: boolean;
    code?: string;
  };
  if (e instanceof ApplicationFailure) throw e;
  // The token endpoint refused us (non-retryable, names the setting) or was unreachable (retried like IMAP trouble).
  const oauth2 = oauth2Failure(err, ErrorTypes.ImapError);
  if (oauth2) throw oauth2;
  if (e.tlsFailed) {
    // Retrying will not make the server offer TLS: it is a setting to fix, not a hiccup.
    throw ApplicationFailure.nonRetryable(
      `IMAP server ${settings.host}:${settings.port} did not set up TLS (${e.message}) — use IMAP_SECURE=true ` +
        'with port 993, or set IMAP_ALLOW_PLAINTEXT=true if this network is trusted',
      ErrorTypes.ConfigError,
    );
  }
  if (e.authenticationFailed) {
    throw ApplicationFailure.nonRetryable(
      `IMAP login failed for ${settings.user} at ${settings.host}:${settings.port} — check ${imapLoginHint(settings)}`,
      ErrorTypes.ImapAuthFailed,
    );
  }
  if (e.mailboxMissing) {
    throw ApplicationFailure.nonRetryable(
      `IMAP mailbox "${mailbox}" does not exist for ${settings.user} — create it or fix IMAP_MAILBOX`,
      ErrorTypes.ConfigError,
    );
  }
  // Network errors, timeouts and server hiccups: let Temporal retry with backoff.
  throw ApplicationFailure.retryable(
    `IMAP error at ${settings.host}:${settings.port}: ${e.message ?? String(err)}${e.code ? ` (${e.code})` : ''}`,
    'ImapError',
  );
}

/**
 * An ImapFlow that logs in with an OAuth2 access token taken from the token source when it connects (not when it
 * is made: the factory stays synchronous), and hands a refused token back so that the next connection gets a new
 * one. The token is in `options.auth` only for the life of this client.
 */
class OAuth2ImapFlow extends ImapFlow {
  constructor(
    options: ConstructorParameters<typeof ImapFlow>[0],
    private readonly oauth2: MailOAuth2,
  ) {
    super(options);
  }

  override async connect(): Promise<void> {
    const user = this.options.auth!.user;
    const accessToken = await this.oauth2.token(user);
    this.options.auth = { user, accessToken };
    try {
      await super.connect();
    } catch (err) {
      if ((err as { authenticationFailed?: boolean }).authenticationFailed) this.oauth2.invalidate(user, accessToken);
      throw err;
    }
  }
}

/**
 * An IMAP client for `settings`, not yet connected: no logging, and no automatic IDLE (every use
 * here is a short session). The one place the worker, its start-up check and the demo make one.
 * With OAuth2 the token is fetched by `connect()`; `connectImap` also retries a refused token once.
 */
export function imapClient(
  settings: ImapSettings,
  /** Extra imapflow options (timeouts: `mail2waf doctor`). */
  extra: { connectionTimeout?: number; greetingTimeout?: number; socketTimeout?: number } = {},
): ImapFlow {
  const options = {
    ...extra,
    host: settings.host,
    port: settings.port,
    // TLS is required unless the server is on loopback or IMAP_ALLOW_PLAINTEXT says otherwise (mail-tls.ts).
    ...imapTlsOptions(settings),
    logger: false as const,
    disableAutoIdle: true,
  };
  if (settings.oauth2) return new OAuth2ImapFlow({ ...options, auth: { user: settings.user } }, settings.oauth2);
  return new ImapFlow({ ...options, auth: { user: settings.user, pass: settings.password } });
}

/** What to check when the IMAP server refuses the login, for messages to the operator. */
export function imapLoginHint(settings: Pick<ImapSettings, 'oauth2'>): string {
  return settings.oauth2
    ? `IMAP_USER and that the OAuth2 app may open this mailbox (${settings.oauth2.credentialSettings})`
    : 'IMAP_USER and IMAP_PASSWORD';
}

/**
 * A connected IMAP client. With OAuth2, a login refused with a cached token (revoked, or expired early on the
 * server's clock) is tried once more with a new token before the failure counts. `onError` receives socket errors
 * after connecting (imapflow emits them; without a listener they would crash the process).
 */
export async function connectImap(settings: ImapSettings, onError: (err: Error) => void): Promise<ImapFlow> {
  for (let attempt = 1; ; attempt++) {
    const client = imapClient(settings);
    client.on('error', onError);
    try {
      await client.connect();
      return client;
    } catch (err) {
      try {
        client.close();
      } catch {
        // never connected (no token): nothing to close
      }
      const refused = (err as { authenticationFailed?: boolean }).authenticationFailed;
      if (!(settings.oauth2 && refused && attempt === 1)) throw err;
    }
  }
}

async function withMailbox<T>(
  settings: ImapSettings,
  mailbox: string,
  fn: (client: ImapFlow, uidValidity: string) => Promise<T>,
): Promise<T> {
  let client: ImapFlow;
  try {
    // imapflow emits 'error' on socket problems after connect; without a listener that would crash the worker.
    client = await connectImap(settings, (err: Error) => log.warn('IMAP connection error', { error: err.message }));
  } catch (err) {
    imapFailure(err, settings, mailbox);
  }
  try {
    const lock = await client.getMailboxLock(mailbox);
    try {
      const opened = client.mailbox;
      const uidValidity = opened ? String(opened.uidValidity) : '';
      return await fn(client, uidValidity);
    } finally {
      lock.release();
    }
  } catch (err) {
    imapFailure(err, settings, mailbox);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

function checkUidValidity(ref: { mailbox: string; uidValidity: string }, actual: string): void {
  if (ref.uidValidity !== actual) {
    // UIDs from another UIDVALIDITY name other messages: acting on them could move the wrong mail.
    throw ApplicationFailure.nonRetryable(
      `UIDVALIDITY of ${ref.mailbox} changed from ${ref.uidValidity} to ${actual}; the next sweep will list again`,
      ErrorTypes.UidValidityChanged,
    );
  }
}

export function createImapActivities(deps: ImapDeps & MetricsDeps) {
  const settings = deps.imap;

  async function listPending(input: ListPendingInput): Promise<ListPendingResult> {
    return withMailbox(settings, input.mailbox, async (client, uidValidity) => {
      // Held messages wait in the inbox for their approval workflow; sweeps leave them alone.
      const found = await client.search({ unKeyword: HELD_KEYWORD }, { uid: true });
      const uids = (found || []).sort((a, b) => a - b);
      if (deps.metrics) {
        // The lowest UID arrived first: its INTERNALDATE dates the oldest message waiting (metrics only).
        const first =
          uids[0] === undefined
            ? undefined
            : await client.fetchOne(String(uids[0]), { internalDate: true }, { uid: true });
        const arrived = first ? new Date(first.internalDate ?? NaN).getTime() : NaN;
        deps.metrics.mailboxListed(input.mailbox, uids.length, Number.isFinite(arrived) ? arrived : undefined);
      }
      return { uidValidity, uids: uids.slice(0, input.limit), remaining: Math.max(0, uids.length - input.limit) };
    });
  }

  const checkTrust = createTrustGate(deps);

  async function analyzeMessage(ref: MessageRef): Promise<MessageAnalysis> {
    const raw = await withMailbox(settings, ref.mailbox, async (client, uidValidity) => {
      checkUidValidity(ref, uidValidity);
      const meta = await client.fetchOne(String(ref.uid), { size: true, uid: true }, { uid: true });
      if (!meta) return { gone: true as const };
      if ((meta.size ?? 0) > deps.maxMessageBytes) return { tooLarge: meta.size ?? 0 };
      const full = await client.fetchOne(String(ref.uid), { source: true, uid: true }, { uid: true });
      if (!full || !full.source) return { gone: true as const };
      return { source: full.source };
    });

    if ('gone' in raw) {
      return { ref, status: 'gone', reason: 'message is no longer in the mailbox', indicators: [], notes: [] };
    }
    if ('tooLarge' in raw) {
      return {
        ref,
        status: 'quarantine',
        reasonCode: 'too-large',
        reason: `message is ${raw.tooLarge} bytes, over MAX_MESSAGE_BYTES=${deps.maxMessageBytes}`,
        indicators: [],
        notes: [],
      };
    }
    try {
      return capAnalysis(await analyzeSource(ref, raw.source));
    } catch (err) {
      // Classified failures (a temporary DNS error, cancellation) keep their type; anything else is this
      // message's fault: retried a few times, then the sweep quarantines it as analysis-failed.
      if (err instanceof ApplicationFailure || Context.current().cancellationSignal.aborted) throw err;
      const e = err as Error;
      throw ApplicationFailure.retryable(
        `analysing uid ${ref.uid} failed: ${capString(`${e.name}: ${e.message}`, 500)}`,
        ErrorTypes.AnalysisError,
      );
    }
  }

  async function analyzeSource(ref: MessageRef, source: Buffer): Promise<MessageAnalysis> {
    // The attempt stops itself before Temporal gives up on it (a timed-out attempt would otherwise go on burning
    // CPU beside its retry), and stops at once when the activity is cancelled.
    const ctx = Context.current();
    const extraction = await extractFromMessage(source, {
      maxMessageBytes: deps.maxMessageBytes,
      deadline: Date.now() + Math.max(5_000, ctx.info.startToCloseTimeoutMs - ANALYSIS_MARGIN_MS),
      signal: ctx.cancellationSignal,
    });
    const notes = [...extraction.notes];
    let indicators = extraction.indicators.map((i) => ({ value: i.value, version: i.version, where: i.where }));
    if (indicators.length > MAX_INDICATORS_PER_MESSAGE) {
      notes.push(`${indicators.length} addresses found; only the first ${MAX_INDICATORS_PER_MESSAGE} were taken`);
      indicators = indicators.slice(0, MAX_INDICATORS_PER_MESSAGE);
    }
    const header = {
      ref,
      messageId: extraction.messageId,
      from: extraction.from,
      subject: extraction.subject,
      date: extraction.date,
    };
    if (!extraction.ok) {
      // Not readable as MIME: quarantined for that, before any question of trust.
      log.info('analysed message', { uid: ref.uid, ok: false, reasonCode: extraction.reasonCode });
      return {
        ...header,
        status: 'quarantine',
        reasonCode: extraction.reasonCode,
        reason: extraction.reason,
        indicators: [],
        notes,
      };
    }

    // The trust gate: only a trusted, authenticated sender may block. Untrusted mail keeps its indicators (a
    // person may approve them) but is quarantined; a temporary DNS failure throws and the activity is retried.
    const check = await checkTrust(source);
    const { decision } = check;
    const date = check.messageDate ?? header.date;
    log.info('analysed message', {
      uid: ref.uid,
      ok: true,
      indicators: indicators.length,
      trusted: decision.trusted,
      trustCode: decision.code,
    });
    if (!decision.trusted) {
      return {
        ...header,
        date,
        status: 'quarantine',
        reasonCode: decision.code,
        reason: decision.reason,
        indicators,
        notes,
      };
    }
    return { ...header, date, status: 'ok', indicators, notes: [...notes, `${decision.code}: ${decision.reason}`] };
  }

  /** Idempotent: a UID that is no longer in the mailbox (already moved) is simply not found again. */
  async function moveMessages(input: MoveInput): Promise<{ moved: number }> {
    return withMailbox(settings, input.mailbox, async (client, uidValidity) => {
      checkUidValidity(input, uidValidity);
      const present = new Set((await client.search({ all: true }, { uid: true })) || []);
      let moved = 0;
      for (const to of ['processed', 'quarantine'] as const) {
        const group = input.moves.filter((m) => m.to === to && present.has(m.uid));
        if (group.length === 0) continue;
        const destination = to === 'processed' ? deps.processedMailbox : deps.quarantineMailbox;
        await client.mailboxCreate(destination).catch(() => undefined); // exists already, most of the time
        // A held message that is now decided is no longer held.
        await client.messageFlagsRemove(group.map((m) => m.uid).join(','), [HELD_KEYWORD], { uid: true });
        for (const m of group) {
          // The reason travels with the message as a keyword, so a person browsing Quarantine sees it.
          if (m.reasonCode) {
            await client.messageFlagsAdd(String(m.uid), [`mail2waf-${m.reasonCode}`], { uid: true });
          }
        }
        const res = await client.messageMove(group.map((m) => m.uid).join(','), destination, { uid: true });
        if (!res) throw ApplicationFailure.retryable(`IMAP MOVE to ${destination} failed`, 'ImapError');
        moved += group.length;
      }
      return { moved };
    });
  }

  /** Idempotent: adding a keyword twice changes nothing. Later sweeps skip the message (see listPending). */
  async function markHeld(input: MarkHeldInput): Promise<{ marked: number }> {
    return withMailbox(settings, input.mailbox, async (client, uidValidity) => {
      checkUidValidity(input, uidValidity);
      if (input.uids.length === 0) return { marked: 0 };
      await client.messageFlagsAdd(input.uids.join(','), [HELD_KEYWORD], { uid: true });
      log.info('message held for approval', { uids: input.uids, approvalId: input.approvalId });
      return { marked: input.uids.length };
    });
  }

  return { listPending, analyzeMessage, moveMessages, markHeld };
}
