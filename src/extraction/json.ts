/**
 * JSON and STIX 2.x to scannable text: every string (and key) on its own line(s), with a locator
 * per line naming where it sits, so a place reads "indicator--8e2e… pattern" rather than "line 1"
 * of a minified bundle.
 *
 * STIX carries addresses in indicator patterns (`[ipv4-addr:value = '198.51.100.1']`,
 * `[ipv6-addr:value ISSUBSET '2001:db8::/32']`, `network-traffic:dst_ref.value`), in observed data
 * (STIX 2.0 `objects` maps, STIX 2.1 top-level `ipv4-addr` / `ipv6-addr` objects) and in prose
 * (`description`). Reading each string separately gives all of them with clean token boundaries, and
 * JSON escapes (`\u002e`, `\/`) are already undone by the parser.
 *
 * Properties that are never indicators are not read: ids and references, timestamps, hashes, and
 * anything named like a version (`"version": "1.2.3.4"` is a software version, not a host).
 */

import { UNMETERED, type Meter } from './budget';

/** Values walked between two looks at the meter's deadline. */
const CHECK_EVERY = 4096;

/** A JSON document as lines to scan, with the locator of each line. */
export interface JsonText {
  /** The text, line by line. */
  lines: string[];
  /** Locator of line i + 1; empty when paths were not asked for. */
  paths: string[];
  /** True when the document is a STIX 2.x bundle or object. */
  stix: boolean;
}

const SKIP_KEYS = new Set([
  'id', 'spec_version', 'created', 'modified', 'valid_from', 'valid_until', 'first_observed', 'last_observed',
  'first_seen', 'last_seen', 'published', 'start_time', 'stop_time', 'hashes', 'pattern_type', 'pattern_version',
  'version', 'software_version', 'os_version', 'firmware_version', 'serial_number', 'lang', 'confidence',
  'created_by_ref', 'object_marking_refs', 'object_refs', 'sample_refs', 'where_sighted_refs',
  'observed_data_refs', 'sighting_of_ref', 'source_ref', 'target_ref', 'x_mitre_version', 'oid', 'oids',
]); // prettier-ignore

function skipKey(key: string): boolean {
  return SKIP_KEYS.has(key) || (key.endsWith('_ref') && key !== 'src_ref' && key !== 'dst_ref');
}

/** Deepest nesting walked; deeper values are ignored (JSON.parse itself has no such limit). */
const MAX_NESTING = 256;

function isStix(doc: unknown): boolean {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return false;
  const o = doc as Record<string, unknown>;
  return (o.type === 'bundle' && Array.isArray(o.objects)) || typeof o.spec_version === 'string';
}

/** A short label for a STIX object: its id, else its type and position. */
function stixLabel(o: Record<string, unknown>, fallback: string): string {
  return typeof o.id === 'string' ? o.id : typeof o.type === 'string' ? `${o.type} ${fallback}` : fallback;
}

/**
 * Parses `source` as JSON and lays out its strings for scanning. Returns a sentence instead when it
 * is not valid JSON (the caller then scans it as plain text). `paths: false` skips building the
 * locators (one string per value), for an extraction that keeps no places. `meter` is checked
 * every few thousand values (deadline, cancel).
 */
export function jsonToText(source: string, opts: { paths?: boolean; meter?: Meter } = {}): JsonText | string {
  const keepPaths = opts.paths ?? true;
  const meter = opts.meter ?? UNMETERED;
  let doc: unknown;
  try {
    doc = JSON.parse(source);
  } catch (err) {
    return `is not valid JSON (${(err as Error).message})`;
  }
  const stix = isStix(doc);
  const lines: string[] = [];
  const paths: string[] = [];
  const push = (value: string, path: string): void => {
    if (value.indexOf('\n') === -1 && value.indexOf('\r') === -1) {
      lines.push(value);
      if (keepPaths) paths.push(path);
      return;
    }
    for (const line of value.split(/\r\n|\r|\n/)) {
      lines.push(line);
      if (keepPaths) paths.push(path);
    }
  };
  // Iterative walk: a hostile document nested 100,000 deep must not overflow the stack. The stack is
  // three parallel arrays rather than an object per value: a bundle has tens of thousands of values.
  const stackValues: unknown[] = [];
  const stackPaths: string[] = [];
  const stackDepths: number[] = [];
  const pushValue = (value: unknown, path: string, depth: number): void => {
    stackValues.push(value);
    stackPaths.push(path);
    stackDepths.push(depth);
  };
  if (stix && Array.isArray((doc as { objects?: unknown }).objects)) {
    const objects = (doc as { objects: unknown[] }).objects;
    for (let i = objects.length - 1; i >= 0; i--) {
      const o = objects[i];
      const label = !keepPaths
        ? ''
        : o !== null && typeof o === 'object'
          ? stixLabel(o as Record<string, unknown>, `objects[${i}]`)
          : `objects[${i}]`;
      pushValue(o, label, 1);
    }
  } else {
    pushValue(doc, stix && keepPaths ? stixLabel(doc as Record<string, unknown>, '$') : '$', 0);
  }
  let walked = 0;
  while (stackValues.length > 0) {
    if (++walked === CHECK_EVERY) {
      walked = 0;
      meter.check();
    }
    const value = stackValues.pop();
    const path = stackPaths.pop() as string;
    const depth = stackDepths.pop() as number;
    if (typeof value === 'string') {
      if (value !== '') push(value, path);
      continue;
    }
    if (value === null || typeof value !== 'object' || depth >= MAX_NESTING) continue;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) {
        pushValue(value[i], stix || !keepPaths ? path : `${path}[${i}]`, depth + 1);
      }
      continue;
    }
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] as string;
      if (skipKey(key)) continue;
      const v = (value as Record<string, unknown>)[key];
      // A value that cannot hold text is not worth a path.
      if (v === null || (typeof v !== 'string' && typeof v !== 'object')) {
        if (!stix && /[0-9]/.test(key)) pushValue(key, keepPaths ? `${path} key` : path, depth + 1);
        continue;
      }
      pushValue(v, !keepPaths ? path : path === '$' || !stix ? `${path}.${key}` : `${path} ${key}`, depth + 1);
      // Keys can hold addresses too ({"185.220.101.7": {...}}); STIX property names never do.
      if (!stix && /[0-9]/.test(key)) pushValue(key, keepPaths ? `${path} key` : path, depth + 1);
    }
  }
  return { lines, paths, stix };
}
