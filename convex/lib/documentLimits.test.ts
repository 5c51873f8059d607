import { describe, expect, test } from "vitest";
import { nestedObject } from "../docks/poison.test.setup";
import { documentLimitProblems, hasLoneSurrogate, utf8Length, wellFormed } from "./documentLimits";

const doc = (value: object) => documentLimitProblems(value, { isDocument: true });

describe("documentLimitProblems", () => {
  test("a realistic row has no problems, nulls and system fields included", () => {
    expect(
      doc({
        _id: "x",
        _creationTime: 1,
        name: "disk",
        sizeGb: 40,
        fullApiData: { block: { linode_id: null, tags: ["a", null], nested: { deep: [1, 2n, true] } } },
      }),
    ).toEqual([]);
  });

  test.each([
    ["a document over 1 MiB", { blob: "x".repeat(1024 * 1024) }, "(root)", /document of about/],
    ["an object with 1,025 fields", { o: Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [`f${i}`, i])) }, "o", /1025 fields/],
    ["an array of 8,193 elements", { a: new Array(8193).fill(0) }, "a", /8193 elements/],
    ["a top-level field name of 65 chars", { ["t".repeat(65)]: 1 }, "t".repeat(40) + "…", /65 chars \(max 64\)/],
    ["a nested field name of 1,025 chars", { o: { ["n".repeat(1025)]: 1 } }, "o." + "n".repeat(40) + "…", /1025 chars \(max 1024\)/],
    ["an empty field name", { o: { "": 1 } }, 'o[""]', /empty field name/],
    ["a $ field name", { o: { $gt: 1 } }, 'o["$gt"]', /starts with \$/],
    ["a non-ASCII field name", { o: { "é": 1 } }, 'o["é"]', /non-ASCII/],
    ["a control character in a field name", { o: { "a\nb": 1 } }, 'o["a\\nb"]', /control/],
    ["a top-level _ field name", { _secret: 1 }, "_secret", /starts with _/],
    ["a lone surrogate in a string", { o: ["ok", "a\uD800"] }, "o[1]", /lone surrogate/],
    ["a bigint outside 64 bits", { n: 2n ** 64n }, "n", /64-bit/],
    ["a Date", { d: new Date(0) }, "d", /Date is not a Convex value/],
    ["undefined in an array", { a: [undefined] }, "a[0]", /undefined/],
  ])("finds %s, with its path", (_label, value, path, problem) => {
    const problems = doc(value);
    expect(problems.length).toBe(1);
    expect(problems[0].path).toBe(path);
    expect(problems[0].problem).toMatch(problem);
  });

  test("counts nesting from the document itself: 16 levels pass, 17 do not", () => {
    // nestedObject(n) is n+1 objects; the document holds it as one more level.
    expect(doc({ v: nestedObject(14) })).toEqual([]);
    expect(doc({ v: nestedObject(15) })).toEqual([{ path: expect.stringMatching(/^v(\.a){15}$/), problem: "nested 17 deep (max 16)" }]);
  });

  test("walks 100,000 levels of nesting without overflowing the stack", () => {
    const problems = doc({ v: nestedObject(100_000) });
    expect(problems.map((p) => p.problem)).toEqual(["nested 17 deep (max 16)"]);
  });

  test("a value that is not a document may have _ fields and needs no object at the top", () => {
    expect(documentLimitProblems({ _x: 1 }, { isDocument: false })).toEqual([]);
    expect(documentLimitProblems([1, "a"], { isDocument: false })).toEqual([]);
    expect(doc([] as unknown as object)).toEqual([{ path: "(root)", problem: "a document must be an object" }]);
  });

  test("stops listing after maxProblems", () => {
    const many = { o: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`$${i}`, i])) };
    expect(documentLimitProblems(many, { isDocument: true }).length).toBe(100);
    expect(documentLimitProblems(many, { isDocument: true, maxProblems: 5 }).length).toBe(5);
  });
});

describe("string helpers", () => {
  test("lone surrogates are found and replaced; pairs are kept", () => {
    expect(hasLoneSurrogate("a\uD83D\uDE00b")).toBe(false);
    expect(hasLoneSurrogate("\uDE00")).toBe(true);
    expect(hasLoneSurrogate("x\uD83D")).toBe(true);
    expect(wellFormed("\uDE00a\uD83D\uDE00\uD83D")).toBe("\uFFFDa\uD83D\uDE00\uFFFD");
    expect(wellFormed("plain")).toBe("plain");
  });

  test("utf8Length counts bytes as UTF-8 does", () => {
    for (const s of ["", "abc", "é", "€", "\uD83D\uDE00", "a\uD83D"]) {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
    }
  });
});
