/**
 * Whether a mail connection must be encrypted, decided once for IMAP and SMTP. Without TLS the IMAP password
 * and the advisories, and the SMTP login and the report, cross the network in clear; and opportunistic STARTTLS
 * is no protection, because whoever sits on the path can strip the server's STARTTLS offer. So TLS is required
 * (implicit TLS, or STARTTLS that must succeed) unless the server is on this machine or the operator said
 * otherwise (IMAP_ALLOW_PLAINTEXT / SMTP_ALLOW_PLAINTEXT).
 * Pure: no sockets here, only options for imapflow and nodemailer.
 */
import { parseIp } from '../net/ip';

export interface MailTlsSettings {
  host: string;
  /** Implicit TLS from the first byte (IMAPS 993, SMTPS 465). */
  secure: boolean;
  /** The operator accepts a plaintext connection to a server that is not on this machine. */
  allowPlaintext?: boolean;
}

/** True for `localhost`, 127.0.0.0/8 and ::1 (also written `[::1]` or as an IPv4-mapped address). */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/\.$/, '');
  if (h === 'localhost') return true;
  const ip = parseIp(h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h);
  if (!ip) return false;
  return ip.version === 4 ? ip.address.startsWith('127.') : ip.address === '::1';
}

/** May this connection go without TLS? Only to loopback, or when the operator allowed it. */
export function plaintextAllowed(s: MailTlsSettings): boolean {
  return s.allowPlaintext === true || isLoopbackHost(s.host);
}

/**
 * imapflow options: implicit TLS as configured; otherwise STARTTLS required (`doSTARTTLS: true` fails the
 * connection, with `tlsFailed`, when the server does not offer it), or left to imapflow where plaintext is allowed.
 */
export function imapTlsOptions(s: MailTlsSettings): { secure: boolean; doSTARTTLS?: boolean } {
  if (s.secure) return { secure: true };
  return plaintextAllowed(s) ? { secure: false } : { secure: false, doSTARTTLS: true };
}

/**
 * nodemailer options: implicit TLS as configured; otherwise `requireTLS` (no STARTTLS, no mail). On loopback
 * STARTTLS is not even tried (`ignoreTLS`: a local relay's self-signed certificate would fail it); where the
 * operator allowed plaintext, STARTTLS is used when offered.
 */
export function smtpTlsOptions(s: MailTlsSettings): { secure: boolean; requireTLS?: boolean; ignoreTLS?: boolean } {
  if (s.secure) return { secure: true };
  if (isLoopbackHost(s.host)) return { secure: false, ignoreTLS: true };
  return s.allowPlaintext === true ? { secure: false } : { secure: false, requireTLS: true };
}
