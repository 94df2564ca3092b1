/** OAuth2 errors as activity failures (kept apart from ./index so that config.ts does not load the Temporal SDK). */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorTypes } from '../shared/constants';
import { OAuth2RefusedError, OAuth2SettingsError, OAuth2UnavailableError } from './errors';

/**
 * An OAuth2 error as the activity failure Temporal should see: a refusal (or a setting that cannot work) is
 * non-retryable `OAuth2Refused` naming the setting; an unreachable endpoint is retryable as `retryType` (the
 * protocol's own transient type, so a sweep treats it like any other IMAP/SMTP hiccup). Undefined for other errors.
 */
export function oauth2Failure(err: unknown, retryType: string): ApplicationFailure | undefined {
  if (err instanceof OAuth2RefusedError || err instanceof OAuth2SettingsError) {
    return ApplicationFailure.create({
      message: err.message,
      type: ErrorTypes.OAuth2Refused,
      nonRetryable: true,
      details: [{ setting: err.setting }],
    });
  }
  if (err instanceof OAuth2UnavailableError) return ApplicationFailure.retryable(err.message, retryType);
  return undefined;
}
