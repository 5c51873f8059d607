// Appends to the audit log. Entries name people, docks and actions only:
// never a key, a token or a provider answer.
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import type { AuditAction } from "../validators";

export async function recordAudit(
  ctx: MutationCtx,
  dock: Doc<"docks">,
  action: AuditAction,
  actorId: Id<"users"> | undefined,
  details?: string,
): Promise<void> {
  await ctx.db.insert("auditLogs", {
    orgId: dock.orgId,
    actorId,
    action,
    dockId: dock._id,
    dockName: dock.name,
    provider: dock.provider,
    details,
    at: Date.now(),
  });
}
