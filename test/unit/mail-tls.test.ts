import { imapTlsOptions, isLoopbackHost, smtpTlsOptions } from '../../src/activities/mail-tls';
import { smtpTransportOptions } from '../../src/activities/report';

test.each([
  ['localhost', true],
  ['LOCALHOST.', true],
  ['127.0.0.1', true],
  ['127.8.9.10', true],
  ['::1', true],
  ['[::1]', true],
  ['::ffff:127.0.0.1', true],
  ['128.0.0.1', false],
  ['10.0.0.5', false],
  ['imap.example.com', false],
  ['localhost.example.com', false],
  ['127.0.0.1.example.com', false],
  ['::2', false],
])('isLoopbackHost(%s) is %s', (host, loopback) => {
  expect(isLoopbackHost(host)).toBe(loopback);
});

describe('IMAP', () => {
  test('a remote server without implicit TLS must do STARTTLS', () => {
    expect(imapTlsOptions({ host: 'imap.example.com', secure: false })).toEqual({ secure: false, doSTARTTLS: true });
  });
  test('implicit TLS stays as configured', () => {
    expect(imapTlsOptions({ host: 'imap.example.com', secure: true })).toEqual({ secure: true });
  });
  test('loopback, or IMAP_ALLOW_PLAINTEXT, may go without', () => {
    expect(imapTlsOptions({ host: '127.0.0.1', secure: false })).toEqual({ secure: false });
    expect(imapTlsOptions({ host: 'imap.example.com', secure: false, allowPlaintext: true })).toEqual({
      secure: false,
    });
  });
});

describe('SMTP', () => {
  test('a remote relay without implicit TLS must do STARTTLS', () => {
    expect(smtpTlsOptions({ host: 'smtp.example.com', secure: false })).toEqual({ secure: false, requireTLS: true });
    expect(
      smtpTransportOptions({ host: 'smtp.example.com', port: 587, secure: false, user: 'u', password: 'p' }),
    ).toEqual({ host: 'smtp.example.com', port: 587, secure: false, requireTLS: true, auth: { user: 'u', pass: 'p' } });
  });
  test('implicit TLS stays as configured; loopback skips STARTTLS; SMTP_ALLOW_PLAINTEXT makes it opportunistic', () => {
    expect(smtpTlsOptions({ host: 'smtp.example.com', secure: true })).toEqual({ secure: true });
    expect(smtpTlsOptions({ host: '127.0.0.1', secure: false })).toEqual({ secure: false, ignoreTLS: true });
    expect(smtpTlsOptions({ host: 'smtp.example.com', secure: false, allowPlaintext: true })).toEqual({
      secure: false,
    });
  });
});
