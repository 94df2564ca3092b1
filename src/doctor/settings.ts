/** Are the worker's settings valid? Everything else needs them (except Temporal, whose settings are separate). */
import { ConfigError, loadWorkerConfig, type WorkerConfig } from '../config';
import { fail, ok, type CheckResult } from './types';

type Env = Record<string, string | undefined>;

export function checkSettings(env: Env): { result: CheckResult; config?: WorkerConfig } {
  try {
    const config = loadWorkerConfig(env);
    const { file, fromFile, overridden } = config.source;
    const where = file
      ? `the environment and ${file} (${fromFile.length} setting(s) from the file${overridden.length ? `, ${overridden.join(', ')} overridden by the environment` : ''})`
      : 'the environment';
    const targets = config.targets.map((t) => `${t.name} (${t.scope}, ${t.region})`).join(', ');
    return { result: ok('settings', `valid, from ${where}; target(s): ${targets}`), config };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return {
      result: fail(
        'settings',
        err.problems.join('; '),
        'correct the settings named above, in the environment or the MAIL2WAF_CONFIG file (README: Settings)',
      ),
    };
  }
}
