/**
 * Creates (and subscribes) IMAP mailboxes if they are missing; idempotent. docker-compose.yml's
 * `setup` service uses it for the advisory inbox's Processed and Quarantine folders (stack-up.sh
 * uses doveadm instead). Talks plain IMAP, so it works against any server.
 *
 *   IMAP_HOST=127.0.0.1 IMAP_PORT=10143 IMAP_USER=... IMAP_PASSWORD=... \
 *     node_modules/.bin/tsx scripts/create-mailboxes.ts Processed Quarantine
 */
import { ImapFlow } from 'imapflow';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function main(): Promise<void> {
  const boxes = process.argv.slice(2);
  if (boxes.length === 0) throw new Error('usage: create-mailboxes.ts MAILBOX...');
  const port = Number(process.env.IMAP_PORT ?? 143);
  const client = new ImapFlow({
    host: required('IMAP_HOST'),
    port,
    secure: (process.env.IMAP_SECURE ?? (port === 993 ? 'true' : 'false')) === 'true',
    auth: { user: required('IMAP_USER'), pass: required('IMAP_PASSWORD') },
    logger: false,
  });
  await client.connect();
  try {
    const existing = new Set((await client.list()).map((m) => m.path));
    for (const box of boxes) {
      if (existing.has(box)) {
        console.log(`mailbox ${box}: exists`);
      } else {
        await client.mailboxCreate(box);
        console.log(`mailbox ${box}: created`);
      }
      await client.mailboxSubscribe(box);
    }
  } finally {
    await client.logout();
  }
}

main().catch((err: unknown) => {
  const e = err as Error & { responseText?: string };
  console.error(`create-mailboxes: ${e.message}${e.responseText ? ` (${e.responseText})` : ''}`);
  process.exit(1);
});
