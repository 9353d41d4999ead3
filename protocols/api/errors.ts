/**
 * The one JSON shape of every HTTP error of both servers (central and the gateway), part of the
 * REST API contract (protocols/api): `{ "error": "<message>", "code": "<snake_case_code>",
 * "field"?: "<parameter>" }`, sometimes with a few more keys named below. `error` is a sentence
 * for a person and may change between versions; `code` is for programs and is one of
 * `ApiErrorCode`; `field` names the query parameter, body path or path parameter at fault when
 * there is one (`limit`, `gateways.0`, `id`). Types only: the servers build it in
 * server-shared/http-errors.ts, the dashboards read it.
 */

export type ApiErrorCode =
  /** No such route, or no such resource (alert, rule, device, gateway, user, token). */
  | 'not_found'
  /** The request is malformed in a way no more specific code names. */
  | 'bad_request'
  /** A query parameter is missing, unknown or invalid (`field` names it). */
  | 'invalid_query'
  /** The JSON body is not JSON or not of the schema (`field` names the first bad path). */
  | 'invalid_body'
  /** A path parameter is invalid (`field` names it). */
  | 'invalid_path'
  /** The body is larger than the route accepts. */
  | 'payload_too_large'
  /** The body's content type is not the one the route reads. */
  | 'unsupported_media_type'
  /** No credentials, or no valid ones: a session cookie or a bearer token is needed. */
  | 'unauthenticated'
  /** The bearer token is unknown, expired or revoked. */
  | 'invalid_token'
  /** Wrong username or password (login). */
  | 'invalid_credentials'
  /** The user has TOTP and the login carried no code (`totp_required: true`). */
  | 'totp_required'
  /** Authenticated, but the role or the token's scope does not allow this. */
  | 'forbidden'
  /** A cookie-authenticated change without the CSRF header or from another origin. */
  | 'csrf'
  /** A wrong current password or TOTP code on an account change. */
  | 'wrong_secret'
  /** The state forbids the change (exists already, would lock out the last admin, not set up). */
  | 'conflict'
  /** One or more Sigma rules refused (`problems` lists each rule, field and reason). */
  | 'rule_refused'
  /** A gateway's enrollment refused (bad, used or expired token, id taken, bad key). */
  | 'enrollment_refused'
  /** Too many attempts or open streams: try again later (`retry-after` says when). */
  | 'too_many_requests'
  /** The server cannot serve this now (a capacity limit). */
  | 'unavailable'
  /** Anything unexpected: the detail is in the server's log, never in the answer. */
  | 'internal';

/** Every HTTP error answer of both servers. */
export interface ApiError {
  /** A sentence for a person. */
  error: string;
  code: ApiErrorCode;
  /** The query parameter, body path or path parameter at fault, when there is one. */
  field?: string;
  /** With `totp_required`: the login needs a TOTP code. */
  totp_required?: boolean;
  /** With `rule_refused`: every refused rule, field and reason. */
  problems?: Array<{ rule: string | null; field: string | null; why: string; code: string }>;
  /** With `forbidden`: the caller must enrol a TOTP second factor before anything else. */
  totp_enrollment_required?: boolean;
}
