/**
 * The trust gate's settings in use: someone is trusted (else every advisory is quarantined or held), and each
 * trusted domain publishes what authentication needs — a DMARC record (the gate requires DMARC pass) and, for
 * selectors named in DKIM_SELECTORS, a DKIM key. Looked up with the worker's own resolver (createResolver), so
 * a DNS_RECORDS_FILE (local stack, tests, air-gapped runs) is checked instead of the real DNS.
 */
import { createResolver, type DnsResolver } from '../activities/authenticate';
import type { WorkerConfig } from '../config';
import { error, fail, messageOf, ok, type CheckResult } from './types';

/** The domains whose DNS matters: `user@d` and `d` → d; `*.d` → d (DMARC of the parent covers subdomains). */
export function trustedDomains(trustedSenders: string[]): string[] {
  const out: string[] = [];
  for (const s of trustedSenders) {
    const d = (s.includes('@') ? s.slice(s.lastIndexOf('@') + 1) : s.replace(/^\*\./, '')).toLowerCase();
    if (d && !out.includes(d)) out.push(d);
  }
  return out;
}

const MISSING = new Set(['ENOTFOUND', 'ENODATA']);

/** TXT values joined from their chunks. */
function texts(answer: unknown): string[] {
  return Array.isArray(answer) ? answer.map((r) => (Array.isArray(r) ? r.join('') : String(r))) : [];
}

/** `_dmarc.<domain>`, then its parents down to two labels (the organisational domain, roughly as DMARC finds it). */
async function dmarcRecord(
  resolver: DnsResolver,
  domain: string,
): Promise<{ name: string; record: string } | undefined> {
  const labels = domain.split('.');
  for (let i = 0; i <= labels.length - 2; i++) {
    const name = `_dmarc.${labels.slice(i).join('.')}`;
    try {
      const record = texts(await resolver(name, 'TXT')).find((t) => /^v=DMARC1\s*(;|$)/i.test(t.trim()));
      if (record) return { name, record };
    } catch (err) {
      if (!MISSING.has((err as { code?: string }).code ?? '')) throw err;
    }
  }
  return undefined;
}

export async function checkTrust(config: WorkerConfig): Promise<CheckResult[]> {
  const { trustedSenders, mtaHosts } = config.trust;
  if (trustedSenders.length === 0 && config.trust.allowNoTrustedSenders) {
    // Said on purpose (TRUSTED_SENDERS=none or ALLOW_NO_TRUSTED_SENDERS=true): nothing to fix, but say what it means.
    return [
      ok(
        'trust.senders',
        'no trusted senders, on purpose: every message is quarantined or held for approval, none blocks by itself',
      ),
    ];
  }
  if (trustedSenders.length === 0) {
    return [
      fail(
        'trust.senders',
        'TRUSTED_SENDERS is empty: no advisory can block automatically; every message is quarantined or held for approval',
        'list the advisory senders (user@domain, domain or *.domain) in TRUSTED_SENDERS, and your mail servers in MTA_HOSTS',
      ),
    ];
  }
  const results = [
    ok(
      'trust.senders',
      `${trustedSenders.length} trusted sender(s) (${trustedSenders.join(', ')}); MTA_HOSTS ${mtaHosts.join(', ')}`,
    ),
  ];
  let resolver: DnsResolver;
  const offline = config.trust.dnsRecordsFile;
  try {
    resolver = createResolver(config.trust);
  } catch (err) {
    return [...results, fail('trust.dns', messageOf(err), 'fix DNS_RECORDS_FILE, or unset it to use the real DNS')];
  }
  const via = offline ? ` (from DNS_RECORDS_FILE ${offline}, not the real DNS)` : '';
  const checks = trustedDomains(trustedSenders).map(async (domain): Promise<CheckResult> => {
    const name = `trust.dns.${domain}`;
    const selectors = config.dkimSelectors.filter((s) => s.domain === domain).map((s) => s.selector);
    try {
      const dmarc = await dmarcRecord(resolver, domain);
      if (!dmarc) {
        return fail(
          name,
          `${domain} publishes no DMARC record${via}: its mail cannot pass DMARC, so the trust gate will never let it block`,
          offline
            ? `add _dmarc.${domain} to ${offline}`
            : `check the spelling in TRUSTED_SENDERS, or ask ${domain} to publish a DMARC record`,
        );
      }
      const missing: string[] = [];
      for (const selector of selectors) {
        const key = `${selector}._domainkey.${domain}`;
        try {
          const record = texts(await resolver(key, 'TXT')).find((t) => /(^|;)\s*p=/i.test(t));
          // `p=` empty is a revoked key (RFC 6376 3.6.1).
          if (!record || /(^|;)\s*p=\s*(;|$)/i.test(record)) missing.push(`${key} (${record ? 'revoked' : 'no key'})`);
        } catch (err) {
          if (!MISSING.has((err as { code?: string }).code ?? '')) throw err;
          missing.push(`${key} (not found)`);
        }
      }
      if (missing.length > 0) {
        return fail(
          name,
          `no DKIM key at ${missing.join(', ')}${via}`,
          `correct DKIM_SELECTORS (the s= of ${domain}'s DKIM-Signature), or ask ${domain} which selector it signs with`,
        );
      }
      const dkim = selectors.length
        ? `, DKIM key(s) for ${selectors.join(', ')}`
        : ' (DKIM keys not checked: name the selectors in DKIM_SELECTORS)';
      return ok(name, `DMARC record at ${dmarc.name}${dkim}${via}`);
    } catch (err) {
      return error(
        name,
        `DNS lookup for ${domain} failed (${messageOf(err)})${via}`,
        'check the resolver (/etc/resolv.conf) and try again',
      );
    }
  });
  return [...results, ...(await Promise.all(checks))];
}
