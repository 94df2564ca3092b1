import { scanText } from '../../src/extraction/scan';
import { unwrapUrls } from '../../src/extraction/unwrap';

const values = (text: string): string[] => scanText(text, 't').map((f) => f.value);

describe('link wrappers of forwarded mail are seen through', () => {
  test('Microsoft Safe Links', () => {
    const link =
      'https://eur01.safelinks.protection.outlook.com/?url=http%3A%2F%2F45.95.147.236%2Finvoice&data=05%7C01%7Cx&reserved=0';
    expect(values(link)).toEqual(['45.95.147.236']);
  });

  test('Safe Links around a bracketed IPv6 URL', () => {
    const link =
      'https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2F%5B2a0e%3A97c0%3A3e3%3A%3A10%5D%3A8443%2F&data=x';
    expect(values(link)).toEqual(['2a0e:97c0:3e3::10']);
  });

  test('Proofpoint URL Defense v2', () => {
    const link =
      'https://urldefense.proofpoint.com/v2/url?u=http-3A__88.214.26.4_login&d=DwMFaQ&c=abc&r=def&m=ghi&s=jkl&e=';
    expect(unwrapUrls(link)).toContain('http://88.214.26.4/login');
    expect(values(link)).toEqual(['88.214.26.4']);
  });

  test('Proofpoint URL Defense v3, with replaced characters restored', () => {
    // "?" and "=" of the target were replaced by "*"; the base64url "Pz0" after "__;" holds them.
    const link = 'https://urldefense.com/v3/__http://5.42.92.211/pay*id*7__;Pz0!!ABCDEFG!abcdef$';
    expect(unwrapUrls(link)).toContain('http://5.42.92.211/pay?id=7');
    expect(values(link)).toEqual(['5.42.92.211']);
  });

  test('a percent-encoded URL in a query string', () => {
    expect(values('https://r.example/out?target=https%3A%2F%2F141.98.10.17%3A8443%2Fgate')).toEqual(['141.98.10.17']);
    expect(values('next=http%253A%252F%252F141.98.10.18%252F')).toEqual(['141.98.10.18']); // double-encoded
  });

  test('line breaks are never decoded, so line numbers hold', () => {
    expect(unwrapUrls('a%0Ab')).toBe('a%0Ab');
  });

  // The timeout is the hang guard: a backtracking pattern would run for minutes on these.
  test('hostile wrapper text finishes', () => {
    const wrappers = 'https://urldefense.com/v3/__'.repeat(100_000);
    expect(unwrapUrls(wrappers).length).toBe(wrappers.length);
    // '%25' is undone only before an escape that shapes a URL: here nothing changes.
    const escapes = '%25'.repeat(1_000_000);
    expect(unwrapUrls(escapes) === escapes).toBe(true);
  }, 30_000);
});
