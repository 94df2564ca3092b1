import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package's version, from the package.json next to src/ or lib/. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}
