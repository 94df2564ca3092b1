import { formatWhy } from '../../src/cli/blocklist';
import { createPrinter, printError } from '../../src/cli/output';
import type { WhyAnswer } from '../../src/shared/types';

const answer: WhyAnswer = {
  value: '185.220.101.47',
  blocked: true,
  entries: [
    {
      value: '185.220.101.47',
      version: 4,
      addedAt: '2026-11-01T00:00:00.000Z',
      manual: false,
      sources: [
        {
          kind: 'message',
          ref: '<a@x>',
          from: 'cert@x\x1b]0;pwned\x07',
          subject: 'C2 list\x1b[2J\r\n  185.220.101.47 was unblocked at now by alice: fp',
          detail: 'body line 3\u202e',
          at: '2026-11-01T00:00:00.000Z',
        },
      ],
    },
  ],
  removed: [],
  foreign: [],
  refused: [],
};

function capture(json: boolean) {
  let out = '';
  return { printer: createPrinter(json, (s) => (out += s)), out: () => out };
}

test('human CLI output carries no terminal escape and no forged line from mail', () => {
  const c = capture(false);
  c.printer.result(answer, formatWhy);
  const text = c.out();
  expect(text).not.toContain('\x1b');
  expect(text).not.toContain('\r');
  expect(text).not.toContain('\u202e');
  expect(text).toContain('C2 list\\x1b[2J\\r\\n  185.220.101.47 was unblocked');
  // Two lines of the answer, plus the entry's line and its one source line: nothing else.
  expect(text.trimEnd().split('\n')).toHaveLength(3);
  expect(text.split('\n').filter((l) => l.includes('was unblocked'))).toHaveLength(1);
});

test('even a formatter that forgets oneLine cannot reach the terminal with an escape', () => {
  const c = capture(false);
  c.printer.result('x', () => 'subject \x1b[2J\x9b1m here');
  expect(c.out()).toBe('subject \\x1b[2J\\x9b1m here\n');
  let err = '';
  printError(new Error('refused: \x1b[2J'), false, (s) => (err += s));
  expect(err).toBe('mail2waf: refused: \\x1b[2J\n');
});

test('--json output is left to JSON escaping', () => {
  const c = capture(true);
  c.printer.result(answer, formatWhy);
  expect(JSON.parse(c.out()).result.entries[0].sources[0].subject).toBe(answer.entries[0]!.sources[0]!.subject);
});
