// Dock actions: the only functions that talk to provider APIs. The sync action
// gets ids only; it loads and decrypts the dock's key itself.
import { v } from "convex/values";
import { internalAction } from "../_generated/server";
import { runDockSync } from "./syncFlow";

export const syncDockResources = internalAction({
  args: { dockId: v.id("docks"), leaseId: v.string() },
  returns: v.null(),
  handler: async (ctx, { dockId, leaseId }) => {
    await runDockSync(ctx, dockId, leaseId);
    return null;
  },
});
