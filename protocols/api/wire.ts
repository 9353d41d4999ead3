/**
 * What a server may hand to `c.json` for a contract type: a `Date` wherever the contract has a
 * string, since JSON.stringify writes it as an ISO 8601 string (what the client then reads).
 * Routes check `c.json(body satisfies Wire<Api.X>)`; the dashboards read the plain `Api.X`.
 */
export type Wire<T> = T extends string
  ? T | Date
  : T extends readonly (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T;
