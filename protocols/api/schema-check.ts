/**
 * Type-level checks that a zod schema of the REST contract (protocols/api/*-schemas.ts) and the
 * TypeScript type the routes and dashboards use describe the same JSON: `sameShape<A, B>()` only
 * type-checks when each is assignable to the other, so a field added, removed or retyped on one
 * side fails `tsc`. (An optional key present on one side only is not caught: mutual assignability.)
 */

/** `true` when A and B are mutually assignable, else `false`. */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** Call as `sameShape<z.output<typeof S>, T>(true)`: the argument is `never` unless they agree. */
export function sameShape<A, B>(ok: Same<A, B>): void {
  void ok;
}
