// The identity provider whose tokens Convex accepts (an OIDC issuer: Clerk,
// Auth0, Convex Auth, ...). Users are keyed by the identity's tokenIdentifier.
// Both settings are required in convex.config.ts, and a push refuses an auth
// config that reads an unset variable, so the assertions hold on a deployment.
import type { AuthConfig } from "convex/server";
import { env } from "./_generated/server";

export default {
  providers: [{ domain: env.AUTH_ISSUER_URL!, applicationID: env.AUTH_APPLICATION_ID! }],
} satisfies AuthConfig;
