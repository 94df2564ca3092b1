/**
 * PDF text layer, read with Mozilla's pdf.js in a worker thread.
 *
 * Why a worker: a PDF is the most complex format an attacker can send us, so the parser runs with
 * its own heap limit (`resourceLimits`) and a wall-clock timeout after which the thread is
 * terminated: a hostile PDF costs at most that, and cannot exhaust the worker's memory or hang a
 * sweep. It also keeps pdf.js (an ES module) out of the CommonJS module graph, so the same code runs
 * under tsx, the compiled build and jest.
 *
 * Text is rebuilt as lines: pdf.js reports text runs with an end-of-line flag and a position; a new
 * line starts at the flag or where the baseline moves, and runs on one line that are visibly apart
 * (table cells) are separated by a tab so neighbouring cells never read as one token.
 */
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { ExtractionCancelled, UNMETERED, type Meter } from './budget';

/** Limits for {@link pdfToText}. */
export interface PdfLimits {
  maxPages: number;
  timeoutMs: number;
  /** Characters of text kept in all; extraction stops there. */
  maxChars: number;
  /** Heap of the worker thread, in MB. */
  maxHeapMb: number;
}

/** The text of each page read, and what was cut short. */
export interface PdfText {
  pages: string[];
  notes: string[];
}

// Runs inside the worker thread: plain JavaScript, loaded with `eval`, so it needs no build step.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const pdfjs = await import(workerData.moduleUrl);
  const task = pdfjs.getDocument({
    data: workerData.bytes,
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    disableAutoFetch: true,
    stopAtErrors: false,
    verbosity: 0,
    cMapUrl: workerData.cMapUrl,
    cMapPacked: true,
    standardFontDataUrl: workerData.standardFontDataUrl,
  });
  // The main thread asks us to stop (cancelled, or past the deadline) before it terminates the thread.
  let stopped = false;
  parentPort.on('message', (m) => {
    if (m === 'stop') { stopped = true; void task.destroy(); }
  });
  const overtime = () => workerData.deadline !== undefined && Date.now() > workerData.deadline;
  const doc = await task.promise;
  const notes = [];
  const pages = [];
  let chars = 0;
  const last = Math.min(doc.numPages, workerData.maxPages);
  if (last > workerData.pageBudget) {
    // The message's page budget cannot cover this document: say so before reading any page.
    await task.destroy();
    parentPort.postMessage({ overPages: last });
    return;
  }
  if (doc.numPages > workerData.maxPages) notes.push('has ' + doc.numPages + ' pages; only the first ' + workerData.maxPages + ' were read');
  for (let p = 1; p <= last; p++) {
    if (stopped) return;
    if (overtime()) {
      await task.destroy();
      parentPort.postMessage({ overtime: true });
      return;
    }
    const page = await doc.getPage(p);
    const content = await page.getTextContent();
    let text = '';
    let lastY;
    let lastEnd;
    let eol = true;
    for (const item of content.items) {
      if (typeof item.str !== 'string') continue;
      const x = item.transform[4];
      const y = item.transform[5];
      const size = Math.abs(item.transform[0]) || Math.abs(item.transform[3]) || 10;
      if (item.str.trim() === '') {
        // pdf.js reports gaps as blank runs: judge the gap by position when the next text comes.
        if (item.hasEOL) { text += '\\n'; eol = true; }
        continue;
      }
      if (!eol && lastY !== undefined && Math.abs(y - lastY) > size * 0.5) text += '\\n';
      else if (!eol && lastEnd !== undefined && x - lastEnd > size * 0.8) text += '\t';
      else if (!eol && lastEnd !== undefined && x - lastEnd > size * 0.15) text += ' ';
      text += item.str;
      eol = item.hasEOL === true;
      if (eol) text += '\\n';
      lastY = y;
      lastEnd = x + (item.width || 0);
    }
    page.cleanup();
    chars += text.length;
    if (chars > workerData.textBudget) {
      await task.destroy();
      parentPort.postMessage({ overText: chars });
      return;
    }
    pages.push(text);
    if (chars > workerData.maxChars) {
      notes.push('text layer passed ' + workerData.maxChars + ' characters at page ' + p + '; the rest was not read');
      break;
    }
  }
  await doc.destroy();
  parentPort.postMessage({ pages, notes });
})().catch((e) => {
  const name = e && e.name;
  parentPort.postMessage({ error: name === 'PasswordException' ? 'is password-protected' : 'cannot be read as PDF (' + String((e && e.message) || e) + ')' });
});
`;

function pdfjsPaths(): { moduleUrl: string; cMapUrl: string; standardFontDataUrl: string } {
  const module = require.resolve('pdfjs-dist/legacy/build/pdf.mjs');
  const root = module.slice(0, module.lastIndexOf('legacy'));
  return {
    moduleUrl: pathToFileURL(module).href,
    cMapUrl: `${root}cmaps/`,
    standardFontDataUrl: `${root}standard_fonts/`,
  };
}

/** What the worker thread answers. */
interface WorkerAnswer {
  pages?: string[];
  notes?: string[];
  error?: string;
  /** Pages it would read, when that is over the page budget. */
  overPages?: number;
  /** Characters read, when that passed the text budget. */
  overText?: number;
  /** True when it saw the deadline pass between pages. */
  overtime?: boolean;
}

/**
 * Reads the text layer of a PDF. Resolves with the page texts and notes, or with a string saying
 * why nothing could be read (damaged, password-protected, over the time or memory limit).
 *
 * The pages and text are reported to `meter` (its page and text budgets are handed to the worker,
 * which stops as soon as they cannot be met) and the meter's deadline and signal end the worker: the
 * promise then rejects with the meter's `BudgetExceeded` or an `ExtractionCancelled`. It rejects for
 * nothing else.
 */
export function pdfToText(bytes: Uint8Array, limits: PdfLimits, meter: Meter = UNMETERED): Promise<PdfText | string> {
  try {
    meter.check();
  } catch (err) {
    return Promise.reject(err as Error);
  }
  const { signal, deadline } = meter;
  return new Promise((resolve, reject) => {
    let settled = false;
    let worker: Worker;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const finish = (result: PdfText | string): void => {
      if (!settle()) return;
      void worker.terminate();
      resolve(result);
    };
    // Stopped from outside: ask pdf.js to destroy its document, and end the thread shortly after
    // whether or not it did (a thread stuck in a parser loop never reads the request).
    const abandon = (err: unknown): void => {
      if (!settle()) return;
      worker.postMessage('stop');
      setTimeout(() => void worker.terminate(), 100).unref();
      reject(err);
    };
    const onAbort = (): void => abandon(new ExtractionCancelled());
    // What the meter throws for the answer, or undefined when it accepts it.
    const judge = (m: WorkerAnswer): unknown => {
      try {
        if (m.overtime === true) meter.check();
        if (m.overPages !== undefined) meter.count('pdfPages', m.overPages);
        if (m.overText !== undefined) meter.text(m.overText);
        if (m.pages !== undefined) {
          meter.count('pdfPages', m.pages.length);
          meter.text(m.pages.reduce((n, p) => n + p.length, 0));
        }
      } catch (err) {
        return err;
      }
      return undefined;
    };
    try {
      worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          ...pdfjsPaths(),
          bytes: new Uint8Array(bytes),
          ...limits,
          pageBudget: meter.left('pdfPages'),
          textBudget: meter.textLeft(),
          deadline,
        },
        resourceLimits: { maxOldGenerationSizeMb: limits.maxHeapMb, maxYoungGenerationSizeMb: 32 },
        stdout: true, // pdf.js may print warnings; they are not ours to show
        stderr: true,
      });
    } catch (err) {
      resolve(`cannot be read: the PDF reader did not start (${(err as Error).message})`);
      return;
    }
    worker.stdout.resume(); // drained and dropped
    worker.stderr.resume();
    // The PDF's own time limit skips it with a note; the extraction's deadline, if sooner, stops everything.
    const untilDeadline = deadline === undefined ? Infinity : Math.max(0, deadline - Date.now());
    const timer =
      untilDeadline < limits.timeoutMs
        ? setTimeout(() => {
            try {
              meter.check();
            } catch (err) {
              abandon(err);
            }
            // the clock said the deadline passed; a meter that disagrees gets the PDF's own verdict
            finish(`took longer than ${Math.round(untilDeadline / 1000)} s to read; skipped`);
          }, untilDeadline + 1)
        : setTimeout(
            () => finish(`took longer than ${Math.round(limits.timeoutMs / 1000)} s to read; skipped`),
            limits.timeoutMs,
          );
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted === true) onAbort();
    worker.on('message', (m: WorkerAnswer) => {
      const stop = judge(m);
      if (stop !== undefined) abandon(stop);
      else if (m.error !== undefined) finish(m.error);
      else if (m.overtime === true || m.overPages !== undefined || m.overText !== undefined) {
        finish('cannot be read (the reader stopped at a budget the extraction no longer enforces)');
      } else finish({ pages: m.pages ?? [], notes: m.notes ?? [] });
    });
    worker.on('error', (err: Error & { code?: string }) => {
      finish(
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `needed more than the ${limits.maxHeapMb} MB memory limit to read; skipped`
          : `cannot be read as PDF (${err.message})`,
      );
    });
    worker.on('exit', () => finish('cannot be read as PDF (the reader stopped without an answer)'));
  });
}
