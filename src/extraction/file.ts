/**
 * A file → its indicators: the entry point of `mail2waf extract` and of library users holding a
 * saved advisory rather than a raw message. A `.eml` (or anything that reads as a message) goes
 * through {@link extractFromMessage}; every other format through the same part readers the sweep uses.
 */
import { BudgetExceeded, EXTRACTION_REASON } from './budget';
import type { MessageExtraction, MessageExtractionOptions } from './message';
import { ExtractionContext, kindOf, readPart, resolveOptions, type PartKind } from './parts';

/** The result of reading one file: a message result, plus the file name and the format it was read as. */
export interface FileExtraction extends MessageExtraction {
  file: string;
  format: PartKind;
}

/**
 * Extracts the indicators from the bytes of a file called `name` (only its extension and first
 * bytes decide the format). Places are labelled with the file name: "iocs.csv:line 3",
 * "report.xlsx:IOCs!B3". `ok: false` means the file could not be read at all, or spent a work budget
 * ('too-complex'); `reason` says why. Rejects with `ExtractionCancelled` when `opts.signal` is aborted.
 */
export async function extractFromFile(
  name: string,
  bytes: Buffer,
  opts: MessageExtractionOptions = {},
): Promise<FileExtraction> {
  const format = kindOf(undefined, name, bytes);
  if (format === 'message') {
    // Loaded here: the mail parser costs about 130 ms of start-up that `extract` of a text file never needs.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { extractFromMessage } = require('./message') as typeof import('./message');
    return { file: name, format, ...(await extractFromMessage(bytes, opts)) };
  }
  if (format === 'unsupported' || format === 'header-data') {
    return {
      file: name,
      format,
      ok: false,
      reasonCode: EXTRACTION_REASON.unsupported,
      reason: `${name} is not a format mail2waf reads (.eml .txt .log .csv .tsv .json .html .pdf .xlsx .zip)`,
      indicators: [],
      notes: [],
    };
  }
  const ctx = new ExtractionContext(resolveOptions(opts));
  try {
    await readPart(ctx, { label: name, part: 'file', attachment: name, filename: name, content: bytes, depth: 0 });
  } catch (err) {
    if (!(err instanceof BudgetExceeded)) throw err; // ExtractionCancelled and bugs go to the caller
    const { reason, limit } = err;
    return {
      file: name,
      format,
      ok: false,
      reasonCode: EXTRACTION_REASON.tooComplex,
      reason,
      limit,
      indicators: [],
      notes: [],
    };
  }
  return { file: name, format, ok: true, indicators: ctx.indicators(), notes: ctx.notes };
}
