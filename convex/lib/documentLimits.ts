// What a real Convex deployment refuses in a stored value, checked in plain
// code so tests (and the test world's write hook) can see it: convex-test
// itself enforces little of this. Not a validator for function arguments.

/** Convex's own limits, as its backend enforces them. */
export const CONVEX_LIMITS = {
  documentBytes: 1024 * 1024,
  fieldsPerObject: 1024,
  arrayElements: 8192,
  /** Containers nested inside each other, the document itself counting as 1. */
  nestingDepth: 16,
  topLevelFieldName: 64,
  nestedFieldName: 1024,
} as const;

/** The system fields every stored document carries. */
const SYSTEM_FIELDS = new Set(["_id", "_creationTime"]);

export type DocumentLimitProblem = { path: string; problem: string };

// A lone surrogate half: a high one not followed by a low one, or a low one
// not preceded by a high one (code units, hence no `u` flag).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

// Most text holds no surrogate at all; this cheap test spares it the full one.
const ANY_SURROGATE = /[\uD800-\uDFFF]/;

/** Whether a string holds a lone surrogate (not valid Unicode, refused by Convex). */
export function hasLoneSurrogate(text: string): boolean {
  if (!ANY_SURROGATE.test(text)) return false;
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(text);
}

/** The string with each lone surrogate replaced by U+FFFD. */
export function wellFormed(text: string): string {
  return hasLoneSurrogate(text) ? text.replace(LONE_SURROGATE, "\uFFFD") : text;
}

/** Bytes of the string as UTF-8 (lone surrogates count as the 3 bytes of U+FFFD). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A pair is 4 bytes for 2 code units.
        bytes += 2;
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

/** Why Convex refuses this field name, or null if it takes it. */
export function fieldNameProblem(name: string, topLevel: boolean): string | null {
  if (name === "") return "empty field name";
  const max = topLevel ? CONVEX_LIMITS.topLevelFieldName : CONVEX_LIMITS.nestedFieldName;
  if (name.length > max) return `field name of ${name.length} chars (max ${max})`;
  if (name.startsWith("$")) return "field name starts with $";
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f) return "field name with a control or non-ASCII character";
  }
  if (topLevel && name.startsWith("_") && !SYSTEM_FIELDS.has(name)) {
    return "top-level field name starts with _";
  }
  return null;
}

const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;
// Past this many values the checker stops: a value this large is a problem
// already, and a shared sub-object referenced many times could otherwise
// make the walk exponential.
const MAX_VALUES_WALKED = 2_000_000;

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

function pathOf(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  const shown = key.length > 40 ? `${key.slice(0, 40)}…` : key;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return parent === "" ? shown : `${parent}.${shown}`;
  return `${parent}[${JSON.stringify(shown)}]`;
}

/**
 * Every way `value` breaks Convex's limits, each with the path where it does.
 * With `isDocument`, `value` is a whole document: top-level field names follow
 * the stricter rules and its total size counts. The walk uses an explicit
 * stack, so no nesting, however deep, can overflow the call stack.
 */
export function documentLimitProblems(
  value: unknown,
  options: { isDocument: boolean; maxProblems?: number },
): DocumentLimitProblem[] {
  const maxProblems = options.maxProblems ?? 100;
  const problems: DocumentLimitProblem[] = [];
  const report = (path: string, problem: string) => {
    if (problems.length < maxProblems) problems.push({ path: path === "" ? "(root)" : path, problem });
  };
  if (options.isDocument && (typeof value !== "object" || value === null || Array.isArray(value))) {
    report("", "a document must be an object");
    return problems;
  }
  // Size follows the backend's accounting closely enough to find a document
  // that is over: each value's own bytes, plus each field name.
  let bytes = 0;
  let walked = 0;
  const stack: { value: unknown; path: string; level: number }[] = [{ value, path: "", level: 0 }];
  while (stack.length > 0) {
    if (++walked > MAX_VALUES_WALKED) {
      report("", `more than ${MAX_VALUES_WALKED} values`);
      break;
    }
    const { value: v, path, level } = stack.pop()!;
    if (v === null || typeof v === "boolean") {
      bytes += 1;
    } else if (typeof v === "number") {
      bytes += 9;
    } else if (typeof v === "bigint") {
      bytes += 9;
      if (v < MIN_INT64 || v > MAX_INT64) report(path, "bigint outside 64-bit range");
    } else if (typeof v === "string") {
      bytes += utf8Length(v) + 2;
      if (hasLoneSurrogate(v)) report(path, "string with a lone surrogate");
    } else if (v instanceof ArrayBuffer) {
      bytes += v.byteLength + 2;
    } else if (Array.isArray(v)) {
      const depth = level + 1;
      bytes += 2;
      if (depth > CONVEX_LIMITS.nestingDepth) {
        report(path, `nested ${depth} deep (max ${CONVEX_LIMITS.nestingDepth})`);
        continue;
      }
      if (v.length > CONVEX_LIMITS.arrayElements) {
        report(path, `array of ${v.length} elements (max ${CONVEX_LIMITS.arrayElements})`);
      }
      for (let i = v.length - 1; i >= 0; i--) {
        if (v[i] === undefined) report(pathOf(path, i), "undefined in an array");
        else stack.push({ value: v[i], path: pathOf(path, i), level: depth });
      }
    } else if (typeof v === "object" && isPlainObject(v)) {
      const depth = level + 1;
      bytes += 2;
      if (depth > CONVEX_LIMITS.nestingDepth) {
        report(path, `nested ${depth} deep (max ${CONVEX_LIMITS.nestingDepth})`);
        continue;
      }
      const keys = Object.keys(v);
      if (keys.length > CONVEX_LIMITS.fieldsPerObject) {
        report(path, `object with ${keys.length} fields (max ${CONVEX_LIMITS.fieldsPerObject})`);
      }
      const topLevel = options.isDocument && depth === 1;
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i];
        const field = (v as Record<string, unknown>)[key];
        // Convex drops undefined fields rather than storing them.
        if (field === undefined) continue;
        const fieldPath = pathOf(path, key);
        const nameProblem = fieldNameProblem(key, topLevel);
        if (nameProblem !== null) report(fieldPath, nameProblem);
        bytes += key.length + 1;
        stack.push({ value: field, path: fieldPath, level: depth });
      }
    } else {
      const kind = typeof v === "object" ? (v.constructor?.name ?? "object") : typeof v;
      report(path, `${kind} is not a Convex value`);
    }
  }
  if (options.isDocument && bytes > CONVEX_LIMITS.documentBytes) {
    report("", `document of about ${bytes} bytes (max ${CONVEX_LIMITS.documentBytes})`);
  }
  return problems;
}
