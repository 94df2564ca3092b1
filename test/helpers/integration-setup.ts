// Real servers are slower than mocks: a sweep on a loaded 2-core machine can take tens of seconds.
jest.setTimeout(240_000);
