/** The worker fails fast, with a message naming the setting to fix, on missing settings or unreachable servers. */
import { runWorkerToExit } from '../helpers/child-worker';
import { stackEnv } from '../helpers/stack';

test('a missing setting stops the worker at once and names the variable', async () => {
  const env = { ...stackEnv(), IMAP_HOST: '', REPORT_TO: 'not-an-address' };
  const { code, output } = await runWorkerToExit(env);
  expect(code).toBe(1);
  expect(output).toMatch(/IMAP_HOST is not set/);
  expect(output).toMatch(/REPORT_TO/);
});

test('an unreachable server stops the worker and says what to check', async () => {
  const env = { ...stackEnv(), IMAP_PORT: '1', AWS_ENDPOINT_URL_WAFV2: 'http://127.0.0.1:1' };
  const { code, output } = await runWorkerToExit(env);
  expect(code).toBe(1);
  expect(output).toMatch(/IMAP server 127\.0\.0\.1:1 unreachable .* check IMAP_HOST, IMAP_PORT/);
  expect(output).toMatch(/AWS WAF \(REGIONAL\) in us-east-1 did not answer .* AWS_ENDPOINT_URL_WAFV2/);
});
