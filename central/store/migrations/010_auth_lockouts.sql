-- Login lockouts (protocols/web-auth/SPEC.md §2), kept so that a restart of central does not lift
-- them: `key` is `u:<lower-case username>` or `a:<source address>`. Expired rows are deleted when
-- a new lockout is written, so the table holds only lockouts of the last 15 minutes.
CREATE TABLE auth_lockouts (
  key          text PRIMARY KEY,
  locked_until timestamptz NOT NULL
);
