/**
 * Errors of getting an OAuth2 access token. Their messages are written here, from the token endpoint's error code
 * and the setting to fix, never from what the endpoint or a library said verbatim (either may quote the request,
 * and the request holds the secret); whatever detail is kept goes through `redact` first.
 */

/** The token endpoint refused us (invalid_client, invalid_grant, 401…): a setting to fix, retrying will not help. */
export class OAuth2RefusedError extends Error {
  override name = 'OAuth2RefusedError';
  constructor(
    message: string,
    /** The setting(s) to fix, e.g. `OAUTH2_CLIENT_SECRET`. */
    readonly setting: string,
    /** The endpoint's error code (`invalid_client`), when it gave one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** The token endpoint could not be reached or failed (network, 5xx, timeout): worth trying again. */
export class OAuth2UnavailableError extends Error {
  override name = 'OAuth2UnavailableError';
}

/** A setting that cannot work (a key file that is not a key…): found before any request. */
export class OAuth2SettingsError extends Error {
  override name = 'OAuth2SettingsError';
  constructor(
    message: string,
    readonly setting: string,
  ) {
    super(message);
  }
}

export function isOAuth2Error(err: unknown): err is OAuth2RefusedError | OAuth2UnavailableError | OAuth2SettingsError {
  return (
    err instanceof OAuth2RefusedError || err instanceof OAuth2UnavailableError || err instanceof OAuth2SettingsError
  );
}
