/** `mail2waf extract`: offline, through the real CLI entry (no Temporal, IMAP or AWS needed). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/client';

const fixtures = join(__dirname, '..', 'fixtures', 'advisories');

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (s) => (out += s), err: (s) => (err += s), env: {} });
  return { code, out, err };
}

test('prints a table with blockability, reason and place', async () => {
  const r = await cli(['extract', join(fixtures, 'export.csv')]);
  expect(r.code).toBe(0);
  const lines = r.out.split('\n');
  expect(lines[0]).toMatch(/^VALUE\s+BLOCK\s+REASON\s+SEEN\s+WHERE$/);
  expect(lines.find((l) => l.startsWith('172.16.40.2 '))).toMatch(/\sno\s+private\s+1\s+export\.csv:line 9$/);
  expect(lines.find((l) => l.startsWith('141.98.10.0/25 '))).toMatch(/yes\s+range 141\.98\.10\.0-141\.98\.10\.127/);
  expect(r.out).toContain('10 indicator(s), 9 blockable, from 1 file(s)');
});

test('--ips prints one indicator per line: value, tab, block or noblock and the reason code', async () => {
  const r = await cli(['extract', '--ips', join(fixtures, 'export.csv'), join(fixtures, 'bundle.stix.json')]);
  expect(r.code).toBe(0);
  const lines = r.out.trimEnd().split('\n');
  expect(lines).toContain('185.220.101.47\tblock');
  expect(lines).toContain('172.16.40.2\tnoblock\tprivate');
  expect(lines).toContain('89.248.163.0/24\tblock');
  expect(lines).toHaveLength(16);
});

test('--json prints each file and the merged indicators; every format is read', async () => {
  const names = ['prose-ioc-table.txt', 'advisory.pdf', 'iocs.xlsx', 'report.html', 'iocs.zip', 'forwarded-phish.eml'];
  const r = await cli(['extract', '--json', ...names.map((n) => join(fixtures, n))]);
  expect(r.code).toBe(0);
  const doc = JSON.parse(r.out);
  expect(doc.ok).toBe(true);
  expect(doc.result.files.map((f: { format: string }) => f.format)).toEqual([
    'text',
    'pdf',
    'xlsx',
    'html',
    'zip',
    'message',
  ]);
  const phish = doc.result.indicators.find((i: { value: string }) => i.value === '45.95.147.236');
  expect(phish.where).toEqual(['forwarded-phish.eml > attachment phish.eml > body:line 3']);
  expect(phish.places[0]).toMatchObject({ attachment: 'forwarded-phish.eml > phish.eml', line: 3 });
  const special = doc.result.indicators.find((i: { value: string }) => i.value === '10.20.4.17');
  expect(special).toMatchObject({ blockable: false, reasonCode: 'private' });
});

test('a file that cannot be read as an advisory: printed, exit 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'm2w-cli-'));
  const bad = join(dir, 'notes.docx');
  writeFileSync(bad, 'PK');
  const r = await cli(['extract', bad, join(fixtures, 'export.csv')]);
  expect(r.code).toBe(1);
  expect(r.out).toContain(`${bad}: not read — notes.docx is not a format mail2waf reads`);
});

test('a missing file is a user error with the path', async () => {
  const r = await cli(['extract', '/nonexistent/advisory.eml']);
  expect(r.code).toBe(1);
  expect(r.err).toBe('mail2waf: cannot read /nonexistent/advisory.eml: ENOENT — check the path\n');
});

test('--ips and --json together are refused', async () => {
  const r = await cli(['extract', '--ips', '--json', join(fixtures, 'export.csv')]);
  expect(r.code).toBe(1);
  expect(JSON.parse(r.out)).toMatchObject({ ok: false, error: { kind: 'user' } });
});

test('files over --max-file-mb are refused with the limit', async () => {
  const r = await cli(['extract', '--max-file-mb', '0.0001', join(fixtures, 'export.csv')]);
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/export\.csv is 0\.0 MB, over the 0\.0 MB limit \(--max-file-mb\)/);
});
