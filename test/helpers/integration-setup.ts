import { DefaultLogger, Runtime } from '@temporalio/worker';

// Real servers are slower than mocks: a sweep on a loaded 2-core machine can take tens of seconds.
jest.setTimeout(240_000);

// Workers in tests log warnings and errors only; INFO lines of every workflow task would drown the results.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // A runtime already exists in this process: keep it.
}
