import * as assert from "assert";
import { imagePinned as policy } from "../../policy/policies/image-pinned";
import {
    Fixture,
    PATCH_KINDS,
    UNKNOWN,
    WORKLOAD_KINDS,
    assertViolations,
    container,
    initContainer,
    podSpec,
    workload,
    explainedViolations,
} from "./util";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const DIGEST = `sha256:${"a".repeat(64)}`;

const violations = (f: Fixture, config: Record<string, unknown> = {}): Promise<string[]> =>
    explainedViolations(policy, f, config);

const withImage = (image: unknown) => workload(DEPLOYMENT, podSpec([container("nuve", { image })]));

describe("image-pinned", () => {
    const cases: Array<[unknown, RegExp | undefined]> = [
        ["lynckia/licode:v10", undefined],
        ["docker.io/library/mongo:7.0.14", undefined],
        ["registry:5000/licode:v10", undefined],
        [`mongo@${DIGEST}`, undefined],
        [`mongo:latest@${DIGEST}`, undefined],
        ["lynckia/licode", /image "lynckia\/licode" has no tag, so it means :latest/],
        ["lynckia/licode:latest", /image "lynckia\/licode:latest" uses the moving tag "latest"/],
        ["registry:5000/licode", /image "registry:5000\/licode" has no tag/],
        ["registry:5000/licode:latest", /uses the moving tag "latest"/],
        ["licode:", /ends in ":" with no tag/],
        ["mongo@sha256:short", /has a malformed digest/],
        ["", /image is not set/],
        [undefined, /image is not set/],
    ];
    for (const [image, expected] of cases) {
        it(`${expected ? "flags" : "accepts"} ${JSON.stringify(image)}`, async () => {
            assertViolations(await violations(withImage(image)), expected ? [expected] : []);
        });
    }

    it("flags custom disallowed tags", async () => {
        assertViolations(
            await violations(withImage("licode:testing"), {
                disallowedTags: ["latest", "testing"],
            }),
            [/uses the moving tag "testing"/],
        );
    });

    it("leaves digests to image-digest-and-registry", async () => {
        assert.ok(!("requireDigest" in (policy.configSchema?.properties ?? {})));
        assertViolations(await violations(withImage("licode:v10")), []);
    });

    it("checks init, sidecar and ephemeral containers, one message each", async () => {
        const f = workload(
            "kubernetes:core/v1:Pod",
            podSpec([container("nuve")], {
                initContainers: [
                    initContainer("wait", { image: "busybox" }),
                    initContainer("proxy", { image: "envoy:latest", restartPolicy: "Always" }),
                ],
                ephemeralContainers: [{ name: "debug", image: "busybox:latest" }],
            }),
        );
        assertViolations(await violations(f), [
            /init container "wait" \(spec.initContainers\[0\]\): image "busybox" has no tag/,
            /sidecar container "proxy" .*"latest"/,
            /ephemeral container "debug" \(spec.ephemeralContainers\[0\]\): .*"latest"/,
        ]);
    });

    for (const k of [...WORKLOAD_KINDS, ...PATCH_KINDS]) {
        it(`checks ${k.kind}`, async () => {
            assertViolations(
                await violations(
                    workload(k.type, podSpec([container("nuve", { image: "licode" })])),
                ),
                [new RegExp(`^${k.kind} "licode-nuve" container "nuve"`)],
            );
        });
    }

    it("lets a Patch leave the image out", async () => {
        const c = container("nuve");
        delete c.image;
        assertViolations(
            await violations(workload("kubernetes:apps/v1:DeploymentPatch", podSpec([c]))),
            [],
        );
    });

    it("exempts a container with a reason, and reports one without", async () => {
        const f = withImage("licode:latest");
        assertViolations(
            await violations(f, {
                exemptions: [{ resource: "licode-nuve", container: "nuve", reason: "dev mirror" }],
            }),
            [],
        );
        assertViolations(
            await violations(f, {
                exemptions: [{ resource: "licode-nuve", container: "nuve", reason: "" }],
            }),
            [/exemption for resource "licode-nuve", container "nuve" has no reason/, /moving tag/],
        );
    });

    it("skips an image unknown during preview", async () => {
        assertViolations(await violations(withImage(UNKNOWN)), []);
    });
});
