// image-digest-and-registry: where images may come from, and (where a stack requires it) that
// they are pinned by digest. Every image (app, init, sidecar, ephemeral) is resolved as the
// runtime resolves it ("mongo" is docker.io/library/mongo, "lynckia/licode" is
// docker.io/lynckia/licode) and must fall under an allowedRegistries entry (a registry host,
// optionally with a path, matched on whole path components; "*" allows all). With requireDigest,
// an image must carry an @sha256: digest: tags are rebuilt and moved (rabbitmq 3.13.7 moved from
// Ubuntu 22.04 to 24.04), a digest is the content.
//
// A separate policy from image-pinned on purpose: an image that cannot have a digest yet is
// exempted here (with a reason, an expiry and its image), while image-pinned keeps refusing
// :latest for it.

import type { PolicyConfigSchema, ResourceValidationPolicy } from "@pulumi/policy";
import { stringList } from "../lib/config";
import { containersOf, describeContainer } from "../lib/containers";
import { EXEMPTIONS_SCHEMA } from "../lib/exemptions";
import { capitalize, show, violation } from "../lib/messages";
import { validatePod } from "../lib/policy";
import { normalizeRepository, parseImage, repositoryAllowed } from "../lib/images";
import { isUnknown } from "../lib/unknown";

export const NAME = "image-digest-and-registry";

interface Config {
    requireDigest: boolean;
    allowedRegistries: string[];
    exemptions: unknown;
}

const configSchema: PolicyConfigSchema = {
    properties: {
        requireDigest: {
            type: "boolean",
            default: false,
            description: "Require every image to carry an @sha256: digest, not only a tag.",
        },
        allowedRegistries: {
            type: "array",
            items: { type: "string" },
            default: ["*"],
            description:
                'Registries (optionally with a path) images may come from, e.g. "docker.io/library", ' +
                '"ghcr.io/org"; "*" allows every registry. Images are normalized first: "mongo" is ' +
                "docker.io/library/mongo.",
        },
        exemptions: EXEMPTIONS_SCHEMA,
    },
};

type Problem = "registry" | "digest";

const WHY: Record<Problem, string> = {
    registry:
        "an image from a registry nobody reviewed runs with the pod's credentials and data; " +
        "typosquatted and look-alike repositories are a known supply-chain attack.",
    digest:
        "a tag is a pointer the publisher can move: the same manifest deploys different code " +
        "after a rebuild upstream (as the mongo and rabbitmq tags are rebuilt), and replicas pulled " +
        "at different times differ; a digest names the content.",
};

const FIX: Record<Problem, string> = {
    registry:
        "use an image from an allowed registry (mirror it there), or add its registry to this " +
        "policy's allowedRegistries after review.",
    digest:
        "pin the image by digest (repository:tag@sha256:...; in this program the tier's " +
        "image.digest stack config), or add an exemption with the image, a reason and an expiry.",
};

/** Images come from allowed registries, and carry a digest where required. */
export const imageDigestAndRegistry: ResourceValidationPolicy = {
    name: NAME,
    description:
        "Every container image comes from an allowed registry (normalized: mongo is " +
        "docker.io/library/mongo) and, where requireDigest is set, is pinned by @sha256: digest.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema,
    remediationSteps: `${capitalize(FIX.registry)} ${capitalize(FIX.digest)}`,
    validateResource: (args, reportViolation) =>
        validatePod<Config>(NAME, configSchema, args, reportViolation, (ctx) => {
            const allowed = stringList(ctx.config.allowedRegistries);
            const requireDigest = ctx.config.requireDigest === true;
            for (const c of containersOf(ctx.pod).containers) {
                if (ctx.containerExempt(c)) {
                    continue;
                }
                const image = c.value.image;
                // No image at all is image-pinned's to report.
                if (isUnknown(image) || typeof image !== "string" || image.trim() === "") {
                    continue;
                }
                const ref = parseImage(image.trim());
                const repository = normalizeRepository(ref.name);
                const problems: string[] = [];
                const kinds: Problem[] = [];
                if (!allowed.some((entry) => repositoryAllowed(repository, entry))) {
                    problems.push(
                        `image ${show(image)} is ${repository}, which is not under an allowed ` +
                            `registry (${allowed.length === 0 ? "none allowed" : allowed.join(", ")})`,
                    );
                    kinds.push("registry");
                }
                if (requireDigest && ref.digest === undefined) {
                    problems.push(
                        `image ${show(image)} has no @sha256: digest, which this stack requires`,
                    );
                    kinds.push("digest");
                }
                if (problems.length > 0) {
                    ctx.report(
                        violation(
                            `${ctx.subject} ${describeContainer(c)}`,
                            problems,
                            kinds.map((k) => capitalize(WHY[k])).join(" "),
                            kinds.map((k) => capitalize(FIX[k])).join(" "),
                        ),
                    );
                }
            }
        }),
};
