/**
 * AWS WAF's own rules for IP-set entries, checked before any API call. moto accepts anything and AWS does
 * not: an entry that AWS would reject fails the whole UpdateIPSet, so one bad value would stall every block.
 */
import { parseCidr } from '../net/ip';

/** AWS documents at most 50 characters per address entry. */
export const WAF_ENTRY_MAX_LENGTH = 50;

/** Undefined when AWS would accept `entry` in a set of `version`; otherwise why not. */
export function wafEntryProblem(entry: string, version: 4 | 6): string | undefined {
  if (entry.length > WAF_ENTRY_MAX_LENGTH) return `longer than ${WAF_ENTRY_MAX_LENGTH} characters`;
  const m = /^([0-9A-Fa-f:.]+)\/(\d{1,3})$/.exec(entry);
  if (!m) return 'not in CIDR notation (address/prefix)';
  const parsed = parseCidr(entry);
  if (!parsed) return 'not a valid address';
  if (parsed.version !== version) return `an IPv${parsed.version} entry in an IPv${version} set`;
  const prefix = Number(m[2]);
  const max = version === 4 ? 32 : 128;
  if (prefix < 1 || prefix > max) return `prefix /${prefix} outside /1–/${max}`;
  if (parsed.hostBitsSet) return 'host bits set (AWS rejects them; use the network address)';
  // An IPv4-mapped IPv6 address parses as IPv4 here but AWS stores the literal: keep only plain forms.
  if (version === 4 && m[1]!.includes(':')) return 'an IPv6 spelling in an IPv4 set';
  return undefined;
}
