/**
 * What the API's auth middleware leaves on the Hono context for the handlers: the name of the
 * API token (or, later, user) making the request, recorded as the actor of alert changes.
 */
declare module 'hono' {
  interface ContextVariableMap {
    apiUser: string;
  }
}

export {};
