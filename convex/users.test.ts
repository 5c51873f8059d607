import { describe, expect, test } from "vitest";
import { api } from "./_generated/api";
import { newTest, seedMember } from "./test.setup";

describe("users.me", () => {
  test("answers the caller's own name and email, and no token identifier", async () => {
    const t = newTest();
    const { as, userId } = await seedMember(t, null, "member", { name: "Ann", email: "Ann@Example.test" });
    await seedMember(t, null, "member", { name: "Bob", email: "bob@example.test" });
    expect(await as.query(api.users.me, {})).toEqual({ _id: userId, name: "Ann", email: "Ann@Example.test" });
  });

  test("answers null without sign-in and for an identity never stored", async () => {
    const t = newTest();
    await seedMember(t, null);
    expect(await t.query(api.users.me, {})).toBeNull();
    const ghost = t.withIdentity({ tokenIdentifier: "https://auth.test|ghost", name: "Ghost" });
    expect(await ghost.query(api.users.me, {})).toBeNull();
  });

  test("answers the stored row once storeUser has run", async () => {
    const t = newTest();
    const as = t.withIdentity({ tokenIdentifier: "https://auth.test|new", name: "New", email: " New@X.test " });
    const userId = await as.mutation(api.users.storeUser, {});
    expect(await as.query(api.users.me, {})).toEqual({ _id: userId, name: "New", email: " New@X.test " });
  });
});

describe("storeUser and email lookup", () => {
  test("stores the email as sent and a trimmed, lower-cased copy for lookup", async () => {
    const t = newTest();
    const as = t.withIdentity({ tokenIdentifier: "https://auth.test|case", name: "C", email: " Mixed@Case.TEST " });
    const userId = await as.mutation(api.users.storeUser, {});
    const row = await t.run((ctx) => ctx.db.get("users", userId));
    expect(row).toMatchObject({ email: " Mixed@Case.TEST ", normalizedEmail: "mixed@case.test" });
  });

  test("a row stored before the lookup copy existed gains it at the next sign-in", async () => {
    const t = newTest();
    const userId = await t.run((ctx) =>
      ctx.db.insert("users", { name: "Old", email: "Old@X.test", tokenIdentifier: "https://auth.test|old" }),
    );
    const as = t.withIdentity({ tokenIdentifier: "https://auth.test|old", name: "Old", email: "Old@X.test" });
    await as.mutation(api.users.storeUser, {});
    expect((await t.run((ctx) => ctx.db.get("users", userId)))?.normalizedEmail).toBe("old@x.test");
  });

  test("an identity without email stores no lookup copy", async () => {
    const t = newTest();
    const as = t.withIdentity({ tokenIdentifier: "https://auth.test|noemail", name: "N" });
    const userId = await as.mutation(api.users.storeUser, {});
    const row = await t.run((ctx) => ctx.db.get("users", userId));
    expect(row?.email).toBe("");
    expect(row?.normalizedEmail).toBeUndefined();
  });
});
