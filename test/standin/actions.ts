/**
 * Actions: the records of what happens to droplets, volumes and reserved IPs (in progress, then
 * completed or errored), GET /v2/actions, each resource's own action list, and the action's JSON
 * shape.
 */

import { regionJson } from "./account";
import { findRegion } from "./catalog";
import type { Cloud } from "./cloud";
import { ApiError, type JsonObject } from "./json-fields";
import type { ActionRecord } from "./records";
import { list, route, type Ctx, type Reply, type Route } from "./routing";
import type { ActionResourceType } from "./types";
import { nowIso, sleep } from "./util";

export function actionRoutes(cloud: Cloud): Route[] {
    return [
        route("GET", "/v2/actions", (c) => list(c, "actions", [...cloud.actions.values()].map(actionJson))),
        route("GET", "/v2/actions/:num", (c) => ({ status: 200, body: { action: actionJson(cloud.action(c.params[0])) } })),
    ];
}

/**
 * GET `{resource}/actions` and `{resource}/actions/{id}`: the actions of one droplet, volume or
 * reserved IP, found by `id` from the resource's path parameter (which answers 404 for none).
 */
export function scopedActionRoutes(
    cloud: Cloud,
    resource: string,
    resourceType: ActionResourceType,
    id: (ref: string) => number | string,
): Route[] {
    return [
        route("GET", `${resource}/actions`, (c) => listActions(cloud, c, resourceType, id(c.params[0]))),
        route("GET", `${resource}/actions/:num`, (c) => getScopedAction(cloud, c, resourceType, id(c.params[0]))),
    ];
}

export function newAction(
    cloud: Cloud,
    type: string,
    resourceType: ActionResourceType,
    resourceId: number | string,
    region: string,
): ActionRecord {
    const action: ActionRecord = {
        id: cloud.nextActionId++,
        type,
        status: "in-progress",
        startedAt: nowIso(),
        completedAt: null,
        resourceType,
        resourceId,
        region,
    };
    cloud.actions.set(action.id, action);
    return action;
}

export function finishAction(action: ActionRecord, status: "completed" | "errored"): void {
    action.status = status;
    action.completedAt = nowIso();
}

/** An action whose state change is already applied; it completes after the action delay. */
export function timedAction(...args: Parameters<typeof newAction>): ActionRecord {
    const [cloud] = args;
    const action = newAction(...args);
    void cloud.track(async () => {
        await sleep(cloud.actionDelayMs);
        finishAction(action, "completed");
    });
    return action;
}

function listActions(cloud: Cloud, c: Ctx, resourceType: ActionResourceType, resourceId: number | string): Reply {
    const items = [...cloud.actions.values()].filter((a) => a.resourceType === resourceType && a.resourceId === resourceId);
    return list(c, "actions", items.map(actionJson));
}

function getScopedAction(cloud: Cloud, c: Ctx, resourceType: ActionResourceType, resourceId: number | string): Reply {
    const action = cloud.action(c.params[1]);
    if (action.resourceType !== resourceType || action.resourceId !== resourceId) throw ApiError.notFound();
    return { status: 200, body: { action: actionJson(action) } };
}

export function actionJson(a: ActionRecord): JsonObject {
    return {
        id: a.id,
        status: a.status,
        type: a.type,
        started_at: a.startedAt,
        completed_at: a.completedAt,
        resource_id: typeof a.resourceId === "number" ? a.resourceId : 0,
        resource_type: a.resourceType,
        region: findRegion(a.region) === undefined ? null : regionJson(a.region),
        region_slug: a.region,
    };
}
