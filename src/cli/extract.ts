/** `mail2waf extract <file>...`: the extraction engine on saved advisories, offline (no Temporal, IMAP or AWS). */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { FileExtraction } from '../extraction/file';
import type { FoundIndicator } from '../extraction/indicators';
import { oneLine } from '../shared/text';
import { table, UserError, type Printer } from './output';
import { lazy } from './lazy';

/** What `extract` prints with --json: each file's result, and the indicators of all files merged. */
export interface ExtractResult {
  files: FileExtraction[];
  indicators: FoundIndicator[];
}

const MB = 1024 * 1024;

async function readInput(path: string, maxBytes: number): Promise<Buffer | string> {
  let size: number;
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw new UserError(`${path} is a directory — give the files inside it`);
    size = s.size;
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} — check the path`,
    );
  }
  if (size > maxBytes) {
    return `${path} is ${(size / MB).toFixed(1)} MB, over the ${(maxBytes / MB).toFixed(1)} MB limit (--max-file-mb)`;
  }
  return readFile(path);
}

/**
 * Runs the extraction on every file and merges the indicators (a message's places get the file name
 * in front). `places` false skips recording where each was seen, for output that prints values only.
 */
export async function extractFiles(paths: string[], maxFileBytes: number, places = true): Promise<ExtractResult> {
  // The extraction engine (and the mail parser, PDF and XLSX readers behind it) loads when a file is read,
  // not when the CLI registers its commands.
  const { extractFromFile } = lazy.extractFile();
  const { IndicatorSet } = lazy.indicators();
  const files: FileExtraction[] = [];
  const merged = new IndicatorSet(undefined, places);
  for (const path of paths) {
    const name = basename(path);
    const bytes = await readInput(path, maxFileBytes);
    if (typeof bytes === 'string') {
      files.push({
        file: path,
        format: 'unsupported',
        ok: false,
        reasonCode: 'too-large',
        reason: bytes,
        indicators: [],
        notes: [],
      });
      continue;
    }
    const r = await extractFromFile(name, bytes, { maxMessageBytes: maxFileBytes, places });
    r.file = path;
    files.push(r);
    if (r.format === 'message') merged.addFound(r.indicators, `${name} > `, name);
    else merged.addFound(r.indicators);
  }
  return { files, indicators: merged.result() };
}

function ipsLine(f: FoundIndicator): string {
  return f.blockable ? `${f.value}\tblock` : `${f.value}\tnoblock\t${f.reasonCode ?? 'unknown'}`;
}

function human(r: ExtractResult): string {
  const out: string[] = [];
  if (r.indicators.length > 0) {
    out.push(
      table([
        ['VALUE', 'BLOCK', 'REASON', 'SEEN', 'WHERE'],
        ...r.indicators.map((f) => [
          f.value,
          f.blockable ? 'yes' : 'no',
          f.blockable ? (f.derivedFromRange ? `range ${f.derivedFromRange}` : '') : (f.reasonCode ?? ''),
          String(f.seen),
          // Where it was seen is text from the file (attachment names, lines): one escaped line.
          `${oneLine(f.where[0] ?? '', 120)}${f.places.length > 1 ? ` (+${f.places.length - 1} more)` : ''}`,
        ]),
      ]),
    );
  }
  const blockable = r.indicators.filter((f) => f.blockable).length;
  out.push(
    `${r.indicators.length} indicator(s), ${blockable} blockable, from ${r.files.length} file(s)` +
      (r.indicators.length > 0 ? '' : ' — nothing that looks like an IP address was found'),
  );
  for (const f of r.files) {
    if (!f.ok) out.push(`${oneLine(f.file)}: not read — ${oneLine(f.reason ?? 'unknown reason')}`);
    for (const note of f.notes) out.push(`${oneLine(f.file)}: note: ${oneLine(note)}`);
  }
  return out.join('\n');
}

export function registerExtract(program: Command, printer: () => Printer): void {
  program
    .command('extract <files...>')
    .description(
      'extract IP indicators from saved advisories (.eml .txt .log .csv .tsv .json/STIX .html .pdf .xlsx .zip), offline',
    )
    .option('--ips', 'print one indicator per line: value, tab, "block" or "noblock", tab, reason code')
    .option('--max-file-mb <n>', 'refuse files larger than this', '50')
    .action(async (paths: string[], opts: { ips?: boolean; maxFileMb: string; json?: boolean }) => {
      const p = printer();
      if (opts.ips && p.json) throw new UserError('--ips and --json are two output formats: choose one');
      const maxMb = Number(opts.maxFileMb);
      if (!Number.isFinite(maxMb) || maxMb <= 0)
        throw new UserError(`--max-file-mb must be a positive number, not ${opts.maxFileMb}`);
      // --ips prints values and verdicts only: where each was seen is not worth recording.
      const result = await extractFiles(paths, Math.round(maxMb * MB), !opts.ips);
      // A file that could not be read at all is the user's to fix: exit 1, after printing what was read.
      const refused = result.files.some((f) => !f.ok);
      if (opts.ips) p.result(result, (r) => r.indicators.map(ipsLine).join('\n'), refused);
      else p.result(result, human, refused);
    });
}
