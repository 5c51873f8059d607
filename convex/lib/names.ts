// Names people type (organizations, docks): trimmed, non-empty, bounded.
import { fail } from "./errors";

export const MAX_NAME_LENGTH = 100;

export function requireName(raw: string, what: string): string {
  const name = raw.trim();
  if (name.length === 0) fail("INVALID_ARGUMENT", `The ${what} name is empty.`);
  if (name.length > MAX_NAME_LENGTH) {
    fail("INVALID_ARGUMENT", `The ${what} name is longer than ${MAX_NAME_LENGTH} characters.`);
  }
  return name;
}
