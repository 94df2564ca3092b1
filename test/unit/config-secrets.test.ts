/** Every secret setting reaches the log redaction, whether it is set directly or through its *_FILE form. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secretSettingValues } from '../../src/config';

test('secrets given directly or by file, and each payload key alone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'm2w-secrets-'));
  writeFileSync(join(dir, 'refresh'), 'refresh-token-from-a-file\n');
  writeFileSync(join(dir, 'hook'), 'https://hooks.example/T000/B000/xyz\n');
  const values = secretSettingValues({
    OAUTH2_REFRESH_TOKEN_FILE: join(dir, 'refresh'),
    ALERT_WEBHOOK_URL_FILE: join(dir, 'hook'),
    TEMPORAL_API_KEY: 'temporal-api-key',
    PAYLOAD_KEYS: 'k2:bmV3LWtleQ==,k1:b2xkLWtleQ==',
    REPORT_TO: 'soc@example.com',
  });
  expect(values).toEqual(
    expect.arrayContaining([
      'refresh-token-from-a-file',
      'https://hooks.example/T000/B000/xyz',
      'temporal-api-key',
      'k2:bmV3LWtleQ==,k1:b2xkLWtleQ==',
      'bmV3LWtleQ==',
      'b2xkLWtleQ==',
    ]),
  );
  expect(values).not.toContain('soc@example.com');
});
