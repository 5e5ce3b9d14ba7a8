// image-pinned: every container image (app, init, sidecar, ephemeral) names a fixed tag or a
// digest. No tag means :latest; a registry port is not a tag ("registry:5000/img" has none, the
// case Kyverno's `*:*` pattern lets through); a digest pins the image whatever the tag says.
// Requiring a digest, and where images may come from, is image-digest-and-registry's job: an
// exemption from that (an image with no published digest) must not switch off this check.

import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { stringList } from "../lib/config";
import { containersOf, describeContainer } from "../lib/containers";
import { EXEMPTIONS_SCHEMA } from "../lib/exemptions";
import { show, violation } from "../lib/messages";
import { validatePod } from "../lib/policy";
import { parseImage } from "../lib/images";
import { isUnknown } from "../lib/unknown";

export const NAME = "image-pinned";

interface Config {
    disallowedTags: string[];
    exemptions: unknown;
}

const configSchema: PolicyConfigSchema = {
    properties: {
        disallowedTags: {
            type: "array",
            items: { type: "string" },
            default: ["latest"],
            description: "Tags that move and so do not pin an image.",
        },
        exemptions: EXEMPTIONS_SCHEMA,
    },
};

const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

/** Container images name a fixed tag or a digest. */
export const imagePinned: ResourceValidationPolicy = {
    name: NAME,
    description:
        "Container images (app, init, sidecar, ephemeral) are pinned by a tag other than " +
        "latest, or by digest.",
    enforcementLevel: "mandatory",
    severity: "medium",
    configSchema,
    remediationSteps: "Pin the image: repository:1.2.3 or repository@sha256:<digest>.",
    validateResource: (args, reportViolation) =>
        validatePod<Config>(NAME, configSchema, args, reportViolation, (ctx) => {
            const disallowed = stringList(ctx.config.disallowedTags);
            for (const c of containersOf(ctx.pod).containers) {
                if (ctx.containerExempt(c)) {
                    continue;
                }
                const image = c.value.image;
                if (isUnknown(image)) {
                    continue;
                }
                const problem = imageProblem(image, disallowed);
                // A patch need not restate the image it leaves alone.
                if (problem === undefined || (problem === NO_IMAGE && ctx.pod.patch)) {
                    continue;
                }
                ctx.report(
                    violation(
                        `${ctx.subject} ${describeContainer(c)}`,
                        [problem],
                        "a moving tag means the same config can deploy different code: nodes " +
                            "pull whatever the tag points to when a pod starts, so replicas " +
                            "drift apart, rollbacks do not roll back, and a rebuild upstream " +
                            "reaches production unreviewed.",
                        "set image to repository:<version> (e.g. lynckia/licode:v10) or " +
                            "repository@sha256:<digest> (in this program: the `image` stack " +
                            "config, per tier if needed).",
                    ),
                );
            }
        }),
};

const NO_IMAGE = "image is not set";

function imageProblem(image: unknown, disallowed: string[]): string | undefined {
    if (typeof image !== "string" || image.trim() === "") {
        return NO_IMAGE;
    }
    const ref = parseImage(image);
    if (ref.digest !== undefined) {
        return DIGEST_RE.test(ref.digest)
            ? undefined
            : `image ${show(image)} has a malformed digest "${ref.digest}"`;
    }
    if (ref.tag === undefined) {
        return `image ${show(image)} has no tag, so it means :latest`;
    }
    if (ref.tag === "") {
        return `image ${show(image)} ends in ":" with no tag`;
    }
    if (disallowed.includes(ref.tag)) {
        return `image ${show(image)} uses the moving tag "${ref.tag}"`;
    }
    return undefined;
}
