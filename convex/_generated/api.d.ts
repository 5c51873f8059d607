/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import type * as crons from "../crons.js";
import type * as docks__types from "../docks/_types.js";
import type * as docks_actions from "../docks/actions.js";
import type * as docks_adapters_digitalocean_adapter from "../docks/adapters/digitalocean/adapter.js";
import type * as docks_adapters_digitalocean_api from "../docks/adapters/digitalocean/api.js";
import type * as docks_adapters_digitalocean_spaces from "../docks/adapters/digitalocean/spaces.js";
import type * as docks_adapters_digitalocean_types from "../docks/adapters/digitalocean/types.js";
import type * as docks_adapters_linode_adapter from "../docks/adapters/linode/adapter.js";
import type * as docks_adapters_linode_api from "../docks/adapters/linode/api.js";
import type * as docks_adapters_linode_types from "../docks/adapters/linode/types.js";
import type * as docks_adapters_vultr_adapter from "../docks/adapters/vultr/adapter.js";
import type * as docks_adapters_vultr_api from "../docks/adapters/vultr/api.js";
import type * as docks_adapters_vultr_s3 from "../docks/adapters/vultr/s3.js";
import type * as docks_adapters_vultr_types from "../docks/adapters/vultr/types.js";
import type * as docks_cron from "../docks/cron.js";
import type * as docks_deadSync from "../docks/deadSync.js";
import type * as docks_defineAdapter from "../docks/defineAdapter.js";
import type * as docks_http from "../docks/http.js";
import type * as docks_lease from "../docks/lease.js";
import type * as docks_mutations from "../docks/mutations.js";
import type * as docks_parse from "../docks/parse.js";
import type * as docks_progress from "../docks/progress.js";
import type * as docks_queries from "../docks/queries.js";
import type * as docks_registry from "../docks/registry.js";
import type * as docks_removal from "../docks/removal.js";
import type * as docks_s3 from "../docks/s3.js";
import type * as docks_sync from "../docks/sync.js";
import type * as docks_syncFlow from "../docks/syncFlow.js";
import type * as lib_audit from "../lib/audit.js";
import type * as lib_auth from "../lib/auth.js";
import type * as lib_boundedLists from "../lib/boundedLists.js";
import type * as lib_documentLimits from "../lib/documentLimits.js";
import type * as lib_encryption from "../lib/encryption.js";
import type * as lib_errors from "../lib/errors.js";
import type * as lib_names from "../lib/names.js";
import type * as lib_pages from "../lib/pages.js";
import type * as lib_settings from "../lib/settings.js";
import type * as organizations from "../organizations.js";
import type * as resources_pageRanges from "../resources/pageRanges.js";
import type * as resources_queries from "../resources/queries.js";
import type * as resources_search from "../resources/search.js";
import type * as resources_summary from "../resources/summary.js";
import type * as resources_totals from "../resources/totals.js";
import type * as users from "../users.js";
import type * as validators from "../validators.js";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
declare const fullApi: ApiFromModules<{
  crons: typeof crons;
  "docks/_types": typeof docks__types;
  "docks/actions": typeof docks_actions;
  "docks/adapters/digitalocean/adapter": typeof docks_adapters_digitalocean_adapter;
  "docks/adapters/digitalocean/api": typeof docks_adapters_digitalocean_api;
  "docks/adapters/digitalocean/spaces": typeof docks_adapters_digitalocean_spaces;
  "docks/adapters/digitalocean/types": typeof docks_adapters_digitalocean_types;
  "docks/adapters/linode/adapter": typeof docks_adapters_linode_adapter;
  "docks/adapters/linode/api": typeof docks_adapters_linode_api;
  "docks/adapters/linode/types": typeof docks_adapters_linode_types;
  "docks/adapters/vultr/adapter": typeof docks_adapters_vultr_adapter;
  "docks/adapters/vultr/api": typeof docks_adapters_vultr_api;
  "docks/adapters/vultr/s3": typeof docks_adapters_vultr_s3;
  "docks/adapters/vultr/types": typeof docks_adapters_vultr_types;
  "docks/cron": typeof docks_cron;
  "docks/deadSync": typeof docks_deadSync;
  "docks/defineAdapter": typeof docks_defineAdapter;
  "docks/http": typeof docks_http;
  "docks/lease": typeof docks_lease;
  "docks/mutations": typeof docks_mutations;
  "docks/parse": typeof docks_parse;
  "docks/progress": typeof docks_progress;
  "docks/queries": typeof docks_queries;
  "docks/registry": typeof docks_registry;
  "docks/removal": typeof docks_removal;
  "docks/s3": typeof docks_s3;
  "docks/sync": typeof docks_sync;
  "docks/syncFlow": typeof docks_syncFlow;
  "lib/audit": typeof lib_audit;
  "lib/auth": typeof lib_auth;
  "lib/boundedLists": typeof lib_boundedLists;
  "lib/documentLimits": typeof lib_documentLimits;
  "lib/encryption": typeof lib_encryption;
  "lib/errors": typeof lib_errors;
  "lib/names": typeof lib_names;
  "lib/pages": typeof lib_pages;
  "lib/settings": typeof lib_settings;
  organizations: typeof organizations;
  "resources/pageRanges": typeof resources_pageRanges;
  "resources/queries": typeof resources_queries;
  "resources/search": typeof resources_search;
  "resources/summary": typeof resources_summary;
  "resources/totals": typeof resources_totals;
  users: typeof users;
  validators: typeof validators;
}>;
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;
