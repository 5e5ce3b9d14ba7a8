// Exemptions live in the policy config (reviewed with the code), not in annotations on the
// resource (self-serve, as with Polaris or kube-score). Each one names a resource (its Pulumi name
// or metadata.name), optionally one container, and must carry a reason; an optional `expires`
// date (YYYY-MM-DD) ends it. An exemption without a reason, or past its date, is not honoured and
// is itself reported wherever it would have applied.

import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { isObject } from "./unknown";

/** One exemption entry from the policy config. */
export interface Exemption {
    /** Pulumi resource name or metadata.name. */
    readonly resource: string;
    /** A container name; absent or "*" exempts the whole resource. */
    readonly container?: string;
    /** Why the exemption is acceptable. Required. */
    readonly reason?: string;
    /** Last day (YYYY-MM-DD, UTC) the exemption applies. */
    readonly expires?: string;
}

/** The JSON schema of the `exemptions` config property, shared by every policy. */
export const EXEMPTIONS_SCHEMA: PolicyConfigJSONSchema = {
    type: "array",
    description:
        "Resources (and optionally single containers) this policy skips, each with a reason: " +
        '[{ "resource": "licode-erizo-agent", "container": "erizo-agent", "reason": "...", ' +
        '"expires": "2026-12-31" }].',
    default: [],
    items: {
        type: "object",
        properties: {
            resource: { type: "string" },
            container: { type: "string" },
            reason: { type: "string" },
            expires: { type: "string" },
        },
        required: ["resource"],
    },
};

/** Matches exemptions against resources and containers for one policy. */
export class Exemptions {
    private readonly entries: Exemption[];

    constructor(
        raw: unknown,
        private readonly today: string = new Date().toISOString().slice(0, 10),
    ) {
        this.entries = Array.isArray(raw)
            ? raw.filter((e): e is Exemption => isObject(e) && typeof e.resource === "string")
            : [];
    }

    /**
     * True when a valid exemption covers the resource (any of `names`) and, for container-level
     * checks, the container. Pass `container` undefined for pod-level checks: only whole-resource
     * exemptions cover those.
     */
    covers(names: readonly string[], container?: string): boolean {
        return this.matching(names, container).some((e) => this.problem(e) === undefined);
    }

    /** True when a valid exemption names this resource and some container. */
    namesAnyContainer(names: readonly string[]): boolean {
        return this.entries.some(
            (e) =>
                names.includes(e.resource) &&
                e.container !== undefined &&
                this.problem(e) === undefined,
        );
    }

    /** Messages for invalid exemptions that name this resource, one per entry. */
    problems(names: readonly string[], policyName: string): string[] {
        return this.entries
            .filter((e) => names.includes(e.resource))
            .flatMap((e) => {
                const problem = this.problem(e);
                if (problem === undefined) {
                    return [];
                }
                const target =
                    e.container === undefined || e.container === "*"
                        ? `resource "${e.resource}"`
                        : `resource "${e.resource}", container "${e.container}"`;
                return [
                    `The "${policyName}" exemption for ${target} ${problem}, so it is ignored. ` +
                        "Why: an exemption is a reviewed decision to accept a risk; without a " +
                        "reason or past its date nobody can tell whether it still holds. " +
                        `Fix: in the "${policyName}" policy config give the entry a non-empty ` +
                        '"reason" and a future "expires" (YYYY-MM-DD), or delete it.',
                ];
            });
    }

    private matching(names: readonly string[], container?: string): Exemption[] {
        return this.entries.filter((e) => {
            if (!names.includes(e.resource)) {
                return false;
            }
            if (e.container === undefined || e.container === "*") {
                return true;
            }
            return container !== undefined && e.container === container;
        });
    }

    private problem(e: Exemption): string | undefined {
        if (typeof e.reason !== "string" || e.reason.trim() === "") {
            return "has no reason";
        }
        if (e.expires !== undefined) {
            if (typeof e.expires !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(e.expires)) {
                return `has an expiry date "${String(e.expires)}" that is not YYYY-MM-DD`;
            }
            if (e.expires < this.today) {
                return `expired on ${e.expires}`;
            }
        }
        return undefined;
    }
}
