// Exemptions live in the policy config (reviewed with the code), not in annotations on the
// resource (self-serve, as with Polaris or kube-score). Each one names a resource (its Pulumi name
// or metadata.name), optionally one container, and must carry a reason; an optional `expires`
// date (YYYY-MM-DD) ends it. An optional `image` narrows it to containers running that image
// (repository normalized, "lynckia/licode" = "docker.io/lynckia/licode"; a tag or digest in the
// entry must match too), so the exemption lapses when the image changes; such an entry may name
// every resource ("resource": "*"). An exemption without a reason, or past its date, is not
// honoured and is itself reported wherever it would have applied.

import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { normalizeRepository, parseImage } from "./images";
import { isObject, isUnknown } from "./unknown";

/** One exemption entry from the policy config. */
export interface Exemption {
    /** Pulumi resource name or metadata.name; "*" (every resource) only with `image`. */
    readonly resource: string;
    /** A container name; absent or "*" exempts the whole resource. */
    readonly container?: string;
    /** Only containers running this image (container-level checks only). */
    readonly image?: string;
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
        '"expires": "2026-12-31" }]. An optional "image" (e.g. "docker.io/lynckia/licode:v10") ' +
        'limits the entry to containers running that image; such an entry may use "resource": "*".',
    default: [],
    items: {
        type: "object",
        properties: {
            resource: { type: "string" },
            container: { type: "string" },
            image: { type: "string" },
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
     * checks, the container (and its `image`, the raw value of the container's image field).
     * Pass `container` undefined for pod-level checks: only whole-resource exemptions without an
     * image cover those.
     */
    covers(names: readonly string[], container?: string, image?: unknown): boolean {
        return this.matching(names, container, image).some((e) => this.problem(e) === undefined);
    }

    /**
     * True when a valid exemption could cover a container of this resource whose name is unknown
     * during preview: one that names some container, or one limited to the container's image.
     */
    namesAnyContainer(names: readonly string[], image?: unknown): boolean {
        return this.entries.some(
            (e) =>
                this.problem(e) === undefined &&
                ((names.includes(e.resource) && e.container !== undefined) ||
                    (e.image !== undefined &&
                        (names.includes(e.resource) || e.resource === "*") &&
                        imageMatches(e.image, image))),
        );
    }

    /**
     * Messages for invalid exemptions that name this resource, one per entry. Entries limited to
     * an image are reported only when one of `images` (the containers' image fields) runs it.
     */
    problems(names: readonly string[], policyName: string, images: unknown[] = []): string[] {
        return this.entries
            .filter(
                (e) =>
                    (names.includes(e.resource) || e.resource === "*") &&
                    (e.image === undefined || images.some((i) => imageMatches(e.image, i))),
            )
            .flatMap((e) => {
                const problem = this.problem(e);
                if (problem === undefined) {
                    return [];
                }
                const container =
                    e.container === undefined || e.container === "*"
                        ? ""
                        : `, container "${e.container}"`;
                const image = e.image === undefined ? "" : `, image "${e.image}"`;
                const target = `resource "${e.resource}"${container}${image}`;
                return [
                    `The "${policyName}" exemption for ${target} ${problem}, so it is ignored. ` +
                        "Why: an exemption is a reviewed decision to accept a risk; without a " +
                        "reason or past its date nobody can tell whether it still holds. " +
                        `Fix: in the "${policyName}" policy config give the entry a non-empty ` +
                        '"reason" and a future "expires" (YYYY-MM-DD), and an "image" if it names ' +
                        'every resource ("*"), or delete it.',
                ];
            });
    }

    private matching(names: readonly string[], container?: string, image?: unknown): Exemption[] {
        return this.entries.filter((e) => {
            if (!names.includes(e.resource) && !(e.resource === "*" && e.image !== undefined)) {
                return false;
            }
            if (
                e.image !== undefined &&
                (container === undefined || !imageMatches(e.image, image))
            ) {
                return false;
            }
            if (e.container === undefined || e.container === "*") {
                return true;
            }
            return container !== undefined && e.container === container;
        });
    }

    private problem(e: Exemption): string | undefined {
        if (e.resource === "*" && e.image === undefined) {
            return 'names every resource ("*") without an "image"';
        }
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

/**
 * Whether a container's image field runs the exemption's image: same normalized repository, and
 * the same tag and digest where the exemption gives them. An image unknown during preview matches
 * (an unknown never produces a violation).
 */
function imageMatches(wanted: unknown, image: unknown): boolean {
    if (isUnknown(image)) {
        return true;
    }
    if (typeof wanted !== "string" || typeof image !== "string") {
        return false;
    }
    const w = parseImage(wanted.trim());
    const i = parseImage(image.trim());
    return (
        normalizeRepository(w.name) === normalizeRepository(i.name) &&
        (w.tag === undefined || w.tag === i.tag) &&
        (w.digest === undefined || w.digest === i.digest)
    );
}
