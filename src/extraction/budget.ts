/**
 * The work budget of one extraction: what a hostile message may cost us before it is quarantined.
 *
 * Every format reader takes a {@link Meter} and reports its work as it goes (text produced, cells,
 * shared strings, zip entries, PDF pages) and calls {@link Meter.check} between items and every
 * few thousand iterations of its long loops. A budget spent throws {@link BudgetExceeded}, which
 * unwinds the whole extraction: the result is `ok: false`, `reasonCode: 'too-complex'` and a
 * sentence naming the budget and the part that spent it. Partial results are dropped on purpose:
 * blocking the part of a list that fitted would look like success, and a message built to exhaust us
 * deserves a human's eyes (quarantine), not a partial block.
 *
 * Time: a synchronous loop cannot see a timer-based `AbortSignal` fire (the event loop is blocked),
 * so the deadline is read from the clock at those coarse checks; the signal is checked there too, and
 * listened to while a PDF is read in its worker thread. Never in the scanner's per-character loops.
 */

/** Reason codes of an extraction with `ok: false`: the one place they are written. */
export const EXTRACTION_REASON = {
  /** The bytes are not an email message (no header section, broken multipart, the MIME parser failed). */
  invalidMime: 'invalid-mime',
  /** The raw message is over `maxMessageBytes`; it was not read. */
  tooLarge: 'too-large',
  /** The message is blank. */
  empty: 'empty',
  /** A work budget was spent (text, items, nesting, deadline): see `limit` and `reason`. */
  tooComplex: 'too-complex',
  /** A file in a format mail2waf does not read (extractFromFile only). */
  unsupported: 'unsupported',
} as const;

/** One of {@link EXTRACTION_REASON}'s values. */
export type ExtractionReasonCode = (typeof EXTRACTION_REASON)[keyof typeof EXTRACTION_REASON];

/** `name` of the error thrown when the extraction's `signal` is aborted. */
export const EXTRACTION_CANCELLED = 'ExtractionCancelled';

/**
 * Thrown (never returned) when the caller's `AbortSignal` is aborted: the work was abandoned, not
 * judged, so the activity rethrows it and Temporal sees a cancellation.
 */
export class ExtractionCancelled extends Error {
  override readonly name = EXTRACTION_CANCELLED;
  constructor(message = 'extraction was cancelled') {
    super(message);
  }
}

/** The budgets of one extraction, in {@link ExtractionOptions} (all optional; see {@link DEFAULT_BUDGET}). */
export interface ExtractionBudget {
  /** Text produced in all (decoded bodies, rendered HTML, PDF pages, expanded XLSX cells), in bytes. Default 64 MB. */
  maxTextBytes?: number;
  /** Text one expanding part (PDF, XLSX) may produce, in bytes. Default 32 MB. */
  maxPartTextBytes?: number;
  /** MIME attachments in all, across attached messages. Default 200. */
  maxAttachments?: number;
  /** PDF documents read in all. Default 50. */
  maxPdfs?: number;
  /** PDF pages read in all, across every PDF. Default 500. */
  maxPdfPagesTotal?: number;
  /** XLSX cells read in all, across every sheet and workbook. Default 1,000,000. */
  maxCells?: number;
  /** XLSX shared strings read in all. Default 1,000,000. */
  maxSharedStrings?: number;
  /** Zip entries looked at in all, across archives and workbooks. Default 2000. */
  maxZipEntries?: number;
  /** Epoch milliseconds after which the extraction stops as 'too-complex' ("took longer than N s"). */
  deadline?: number;
  /** Aborting it stops the extraction with an {@link ExtractionCancelled} error. */
  signal?: AbortSignal;
}

const MB = 1024 * 1024;

/** Defaults of {@link ExtractionBudget}'s limits. */
export const DEFAULT_BUDGET = {
  maxTextBytes: 64 * MB,
  maxPartTextBytes: 32 * MB,
  maxAttachments: 200,
  maxPdfs: 50,
  maxPdfPagesTotal: 500,
  maxCells: 1_000_000,
  maxSharedStrings: 1_000_000,
  maxZipEntries: 2000,
} as const;

/**
 * The name of every hard limit, as it appears in `limit` of a 'too-complex' result: the option names
 * of {@link ExtractionBudget} and {@link ExtractionOptions}, and 'deadline'.
 */
export type BudgetName = keyof typeof DEFAULT_BUDGET | 'maxTotalBytes' | 'maxParts' | 'maxDepth' | 'deadline';

/**
 * The setting each budget is named by in reasons, so an operator knows what to raise. The activity
 * wiring should read these environment names (config.ts owns them; these are the suggested names).
 */
export const BUDGET_SETTINGS: Record<BudgetName, string> = {
  maxTextBytes: 'EXTRACT_MAX_TEXT_BYTES',
  maxPartTextBytes: 'EXTRACT_MAX_PART_TEXT_BYTES',
  maxAttachments: 'EXTRACT_MAX_ATTACHMENTS',
  maxPdfs: 'EXTRACT_MAX_PDFS',
  maxPdfPagesTotal: 'EXTRACT_MAX_PDF_PAGES_TOTAL',
  maxCells: 'EXTRACT_MAX_CELLS',
  maxSharedStrings: 'EXTRACT_MAX_SHARED_STRINGS',
  maxZipEntries: 'EXTRACT_MAX_ZIP_ENTRIES',
  maxTotalBytes: 'EXTRACT_MAX_TOTAL_BYTES',
  maxParts: 'EXTRACT_MAX_PARTS',
  maxDepth: 'EXTRACT_MAX_DEPTH',
  deadline: 'the extraction deadline',
};

/**
 * Thrown inside an extraction when a budget is spent; caught at the top ({@link extractFromMessage},
 * {@link extractFromFile}) and turned into `ok: false`, `reasonCode: 'too-complex'`.
 */
export class BudgetExceeded extends Error {
  override readonly name = 'ExtractionBudgetExceeded';
  constructor(
    /** Which limit was spent. */
    readonly limit: BudgetName,
    /** The sentence for `reason`, naming the part and the setting. */
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** True for the errors that stop a whole extraction (budget spent, cancelled): never caught as a part's failure. */
export function isStop(err: unknown): err is BudgetExceeded | ExtractionCancelled {
  return err instanceof BudgetExceeded || err instanceof ExtractionCancelled;
}

/** Items counted against a budget. */
export type ItemKind = 'cells' | 'sharedStrings' | 'zipEntries' | 'pdfPages';

const ITEM_LIMIT: Record<ItemKind, keyof typeof DEFAULT_BUDGET> = {
  cells: 'maxCells',
  sharedStrings: 'maxSharedStrings',
  zipEntries: 'maxZipEntries',
  pdfPages: 'maxPdfPagesTotal',
};

const ITEM_WORDS: Record<ItemKind, string> = {
  cells: 'spreadsheet cells',
  sharedStrings: 'shared strings',
  zipEntries: 'zip entries',
  pdfPages: 'PDF pages',
};

/** What a format reader reports its work to. Every method may throw {@link BudgetExceeded} or {@link ExtractionCancelled}. */
export interface Meter {
  /** Checks the deadline and the signal. Cheap (one clock read), but call it between items, not per character. */
  check(): void;
  /** Counts `n` items of `kind`. */
  count(kind: ItemKind, n: number): void;
  /** Counts `bytes` of text produced by the part being read (against the part's and the message's text budgets). */
  text(bytes: number): void;
  /** Text the part may still produce before {@link text} throws. */
  textLeft(): number;
  /** Items of `kind` that may still be counted before {@link count} throws. */
  left(kind: ItemKind): number;
  /** The caller's signal, for stages that wait (the PDF worker). */
  readonly signal: AbortSignal | undefined;
  /** The deadline (epoch ms), for stages that wait. */
  readonly deadline: number | undefined;
}

/** A meter that counts nothing: for readers called on their own (benchmarks, tests). */
export const UNMETERED: Meter = {
  check() {},
  count() {},
  text() {},
  textLeft: () => Infinity,
  left: () => Infinity,
  signal: undefined,
  deadline: undefined,
};

function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

/** The resolved limits a {@link Budget} enforces. */
export type BudgetLimits = Required<Omit<ExtractionBudget, 'deadline' | 'signal'>> & {
  maxDepth: number;
  maxParts: number;
  maxTotalBytes: number;
};

/** The running counters of one extraction against its limits. */
export class Budget {
  text = 0;
  attachments = 0;
  pdfs = 0;
  readonly items: Record<ItemKind, number> = { cells: 0, sharedStrings: 0, zipEntries: 0, pdfPages: 0 };
  readonly startedAt = Date.now();

  constructor(
    readonly limits: BudgetLimits,
    readonly deadline: number | undefined,
    readonly signal: AbortSignal | undefined,
  ) {}

  /** Throws when the signal is aborted or the deadline has passed; `what` names where we were. */
  check(what?: string): void {
    if (this.signal?.aborted === true) throw new ExtractionCancelled();
    if (this.deadline !== undefined && Date.now() > this.deadline) throw this.overtime(what);
  }

  /** The error for a passed deadline. */
  overtime(what?: string): BudgetExceeded {
    const seconds = Math.max(0, Math.round(((this.deadline ?? this.startedAt) - this.startedAt) / 1000));
    const at = what === undefined ? '' : ` (stopped at ${what})`;
    return new BudgetExceeded('deadline', `extraction took longer than ${seconds} s${at}`);
  }

  /** Throws the error for `limit`, with `sentence` saying what spent it. */
  exceed(limit: BudgetName, sentence: string): never {
    throw new BudgetExceeded(limit, `${sentence} (${BUDGET_SETTINGS[limit]})`);
  }

  /** Counts one more PDF document, read as `what`. */
  pdf(what: string): void {
    if (++this.pdfs > this.limits.maxPdfs) {
      this.exceed('maxPdfs', `${what} is PDF number ${this.pdfs}; at most ${this.limits.maxPdfs} are read`);
    }
  }

  /** Counts `n` MIME attachments of the message `where`. */
  attach(n: number, where: string): void {
    this.attachments += n;
    if (this.attachments > this.limits.maxAttachments) {
      this.exceed(
        'maxAttachments',
        `${where} brings the attachments to ${this.attachments}, more than ${this.limits.maxAttachments}`,
      );
    }
  }

  /** Counts `n` items of `kind` for `what`. */
  count(kind: ItemKind, n: number, what: string): void {
    const total = (this.items[kind] += n);
    const limit = ITEM_LIMIT[kind];
    if (total > this.limits[limit]) {
      this.exceed(limit, `${what} brings the ${ITEM_WORDS[kind]} read past ${this.limits[limit]}`);
    }
  }

  /** A meter for the part called `what`, with its own text count. */
  meter(what: string, expanding: boolean): Meter {
    let partText = 0;
    const partLimit = expanding ? this.limits.maxPartTextBytes : Infinity;
    return {
      check: () => this.check(what),
      count: (kind, n) => this.count(kind, n, what),
      text: (bytes) => {
        partText += bytes;
        this.text += bytes;
        if (partText > partLimit) this.exceed('maxPartTextBytes', `${what} expands past ${mb(partLimit)} of text`);
        if (this.text > this.limits.maxTextBytes) {
          this.exceed('maxTextBytes', `${what} takes the message past ${mb(this.limits.maxTextBytes)} of text`);
        }
      },
      textLeft: () => Math.max(0, Math.min(partLimit - partText, this.limits.maxTextBytes - this.text)),
      left: (kind) => Math.max(0, this.limits[ITEM_LIMIT[kind]] - this.items[kind]),
      signal: this.signal,
      deadline: this.deadline,
    };
  }
}
