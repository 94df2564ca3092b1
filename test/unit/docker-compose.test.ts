/**
 * docker-compose.yml cannot be run here (no Docker engine), so this checks its structure instead:
 * the services, their images and ports, and that the worker's environment is a complete, valid
 * configuration that points at the other services. The project has no YAML parser dependency, so
 * the file is read with a small indentation-based reader that understands just the subset it uses
 * (block maps, block lists of scalars, flow lists, quoted scalars and one `<<: *anchor` merge).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadWorkerConfig } from '../../src/config';

const ROOT = join(__dirname, '..', '..');
const TEXT = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');

type Node = string | Node[] | { [key: string]: Node };
type MapNode = { [key: string]: Node };

interface Line {
  indent: number;
  text: string;
}

function unquote(s: string): string {
  const t = s.trim();
  if ((t.startsWith("'") && t.endsWith("'")) || (t.startsWith('"') && t.endsWith('"'))) return t.slice(1, -1);
  return t;
}

function scalar(s: string): Node {
  const t = s.trim();
  if (t.startsWith('[') && t.endsWith(']')) {
    return t
      .slice(1, -1)
      .split(',')
      .map((x) => unquote(x))
      .filter((x) => x !== '');
  }
  return unquote(t);
}

/** Lines that carry content: no blank lines, no comment lines, no block-scalar bodies. */
function contentLines(text: string): Line[] {
  const out: Line[] = [];
  let blockIndent = -1; // inside a `key: |` block scalar, lines indented deeper than this are its body
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    const indent = raw.length - raw.trimStart().length;
    if (blockIndent >= 0 && indent > blockIndent) continue;
    blockIndent = -1;
    if (raw.trimStart().startsWith('#')) continue;
    out.push({ indent, text: raw.trim() });
    if (/:\s*[|>][-+]?$/.test(raw)) blockIndent = indent;
  }
  return out;
}

function parseYaml(text: string): MapNode {
  const lines = contentLines(text);
  const anchors: Record<string, Node> = {};
  let i = 0;

  function parseBlock(indent: number): Node {
    const first = lines[i];
    if (!first || first.indent < indent) return '';
    return first.text.startsWith('- ') || first.text === '-' ? parseList(first.indent) : parseMap(first.indent);
  }

  function parseList(indent: number): Node[] {
    const out: Node[] = [];
    while (i < lines.length && lines[i]!.indent === indent && lines[i]!.text.startsWith('-')) {
      const item = lines[i]!.text.slice(1).trim();
      if (/^[\w.-]+:(\s|$)/.test(item)) {
        // `- key: value` starts a mapping whose other keys are indented two more columns.
        lines[i] = { indent: indent + 2, text: item };
        out.push(parseMap(indent + 2));
      } else {
        out.push(scalar(item));
        i++;
      }
    }
    return out;
  }

  function parseMap(indent: number): MapNode {
    const out: MapNode = {};
    while (i < lines.length && lines[i]!.indent === indent) {
      const line = lines[i]!;
      const m = /^([^:]+?):(?:\s+(.*))?$/.exec(line.text);
      if (!m) throw new Error(`docker-compose.yml: cannot read line "${line.text}"`);
      const key = unquote(m[1]!);
      const rest = (m[2] ?? '').trim();
      i++;
      if (key === '<<') {
        const anchor = anchors[rest.replace(/^\*/, '')];
        if (!anchor || typeof anchor !== 'object' || Array.isArray(anchor)) throw new Error(`unknown anchor ${rest}`);
        for (const [k, v] of Object.entries(anchor)) if (!(k in out)) out[k] = v;
        continue;
      }
      let value: Node;
      if (rest === '' || rest.startsWith('&')) {
        value = lines[i] && lines[i]!.indent > indent ? parseBlock(lines[i]!.indent) : '';
        if (rest.startsWith('&')) anchors[rest.slice(1)] = value;
      } else if (/^[|>][-+]?$/.test(rest)) {
        value = '<block scalar>';
      } else {
        value = scalar(rest);
      }
      out[key] = value;
    }
    return out;
  }

  const doc = parseMap(0);
  if (i !== lines.length) throw new Error(`docker-compose.yml: unexpected indentation at "${lines[i]!.text}"`);
  return doc;
}

function asMap(node: Node | undefined, what: string): MapNode {
  if (!node || typeof node !== 'object' || Array.isArray(node)) throw new Error(`${what} is not a mapping`);
  return node;
}

function asList(node: Node | undefined): string[] {
  if (Array.isArray(node)) return node.map(String);
  return typeof node === 'string' && node !== '' ? node.split(/\s+/) : [];
}

const doc = parseYaml(TEXT);
const services = asMap(doc.services, 'services');
const service = (name: string): MapNode => asMap(services[name], `service ${name}`);
const env = (name: string): Record<string, string> => {
  const e = asMap(service(name).environment, `${name}.environment`);
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, String(v)]));
};

/** KEY=VALUE lines that scripts/stack-up.sh writes to .stack/env. */
function stackEnvKeys(): string[] {
  const script = readFileSync(join(ROOT, 'scripts', 'stack-up.sh'), 'utf8');
  const body = /cat >"\$M2W_ENV_TMP" <<EOF\n([\s\S]*?)\nEOF/.exec(script);
  if (!body) throw new Error('the .stack/env heredoc was not found in scripts/stack-up.sh');
  return body[1]!
    .split('\n')
    .map((l) => /^([A-Z][A-Z0-9_]*)=/.exec(l)?.[1])
    .filter((k): k is string => Boolean(k));
}

describe('docker-compose.yml', () => {
  it('is plain YAML without tabs', () => {
    expect(TEXT).not.toMatch(/\t/);
  });

  it('defines the temporal, moto, mail, smtp, setup and worker services', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['temporal', 'moto', 'mail', 'smtp', 'setup', 'worker']),
    );
  });

  it('runs the Temporal dev server with its Web UI on 8233 and gRPC on 7233', () => {
    const t = service('temporal');
    expect(String(t.image)).toMatch(/^temporalio\/(temporal|admin-tools)(:|$)/);
    const command = asList(t.command);
    expect(command.slice(0, 2)).toEqual(['server', 'start-dev']);
    expect(command).toEqual(expect.arrayContaining(['--ip', '0.0.0.0', '--ui-port', '8233']));
    expect(asList(t.ports)).toEqual(expect.arrayContaining(['7233:7233', '8233:8233']));
  });

  it('runs moto on 5000 and a Dovecot image for mail', () => {
    expect(String(service('moto').image)).toMatch(/^motoserver\/moto(:|$)/);
    expect(asList(service('moto').ports)).toContain('5000:5000');
    expect(String(service('mail').image)).toMatch(/^dovecot\/dovecot(:|$)/);
    expect(asList(service('mail').ports).some((p) => p.endsWith(':143'))).toBe(true);
  });

  it('builds the worker from the repository and runs `npm run worker`', () => {
    const w = service('worker');
    expect(w.build).toBeDefined();
    expect(asMap(w.build, 'worker.build').context).toBe('.');
    expect(asList(w.command)).toEqual(['npm', 'run', 'worker']);
  });

  it('gives the worker every setting it needs, pointing at the other services', () => {
    const e = env('worker');
    const required = [
      'TEMPORAL_ADDRESS',
      'TEMPORAL_NAMESPACE',
      'IMAP_HOST',
      'IMAP_PORT',
      'IMAP_SECURE',
      'IMAP_USER',
      'IMAP_PASSWORD',
      'IMAP_MAILBOX',
      'SMTP_HOST',
      'SMTP_PORT',
      'SMTP_SECURE',
      'REPORT_FROM',
      'REPORT_TO',
      'AWS_REGION',
      'AWS_ENDPOINT_URL_WAFV2',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'WAF_SCOPE',
      'WAF_IPSET_V4_NAME',
      'WAF_IPSET_V6_NAME',
    ];
    for (const key of required) expect({ key, set: Boolean(e[key]) }).toEqual({ key, set: true });

    expect(e.TEMPORAL_ADDRESS!.split(':')[0]).toBe('temporal');
    expect(e.IMAP_HOST).toBe('mail');
    expect(e.SMTP_HOST).toBe('smtp');
    expect(new URL(e.AWS_ENDPOINT_URL_WAFV2!).hostname).toBe('moto');
    for (const host of ['temporal', 'mail', 'smtp', 'moto']) expect(Object.keys(services)).toContain(host);
  });

  it("has a worker environment that the worker's own configuration loader accepts", () => {
    expect(() => loadWorkerConfig(env('worker'))).not.toThrow();
  });

  it('uses the same setting names as the local stack (.stack/env)', () => {
    const local = stackEnvKeys();
    for (const key of Object.keys(env('worker')))
      expect({ key, inStackEnv: local.includes(key) }).toEqual({ key, inStackEnv: true });
  });

  it('starts the worker only after its dependencies, and they all exist', () => {
    const deps = Object.keys(asMap(service('worker').depends_on, 'worker.depends_on'));
    expect(deps).toEqual(expect.arrayContaining(['temporal', 'setup']));
    for (const d of deps) expect(Object.keys(services)).toContain(d);
    const setupEnv = env('setup');
    expect(setupEnv.WAF_IPSET_V4_NAME).toBe(env('worker').WAF_IPSET_V4_NAME);
    expect(setupEnv.WAF_IPSET_V6_NAME).toBe(env('worker').WAF_IPSET_V6_NAME);
  });
});
