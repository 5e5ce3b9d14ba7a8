import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { imageDigestAndRegistry as policy } from "../../policy/policies/image-digest-and-registry";
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
const PROD = { allowedRegistries: ["docker.io/library", "docker.io/lynckia"] };

const violations = (f: Fixture, config: Record<string, unknown> = {}): Promise<string[]> =>
    explainedViolations(policy, f, config);

const withImage = (image: unknown, type = DEPLOYMENT) =>
    workload(type, podSpec([container("nuve", { image })]));

describe("image-digest-and-registry", () => {
    it("allows every registry and needs no digest by default", async () => {
        for (const image of ["quay.io/x/y:1", "registry:5000/licode:v10", "mongo:7.0.41"]) {
            assertViolations(await violations(withImage(image)), []);
        }
    });

    const registries: Array<[string, string | undefined]> = [
        ["mongo:7.0.41", undefined],
        [`rabbitmq@${DIGEST}`, undefined],
        ["lynckia/licode:v10", undefined],
        ["docker.io/lynckia/licode:v10", undefined],
        ["index.docker.io/library/mongo:7.0.41", undefined],
        ["docker.io/mongo:7.0.41", undefined],
        ["quay.io/lynckia/licode:v10", "quay.io/lynckia/licode"],
        ["lynckiax/licode:v10", "docker.io/lynckiax/licode"],
        ["registry:5000/licode:v10", "registry:5000/licode"],
        ["localhost/licode:v10", "localhost/licode"],
        ["ghcr.io/library/mongo:7", "ghcr.io/library/mongo"],
    ];
    for (const [image, repository] of registries) {
        it(`${repository ? "refuses" : "accepts"} ${image} under docker.io/library and docker.io/lynckia`, async () => {
            assertViolations(
                await violations(withImage(image), PROD),
                repository
                    ? [
                          new RegExp(
                              `image "${image.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}" is ${repository.replace(/\./g, "\\.")}, which is not under an allowed registry \\(docker\\.io/library, docker\\.io/lynckia\\)`,
                          ),
                      ]
                    : [],
            );
        });
    }

    it("allows none with an empty list, and whole registries or repositories by entry", async () => {
        assertViolations(await violations(withImage("mongo:7"), { allowedRegistries: [] }), [
            /not under an allowed registry \(none allowed\)/,
        ]);
        for (const entry of ["docker.io", "docker.io/library/mongo", "index.docker.io/library/*"]) {
            assertViolations(
                await violations(withImage("mongo:7"), { allowedRegistries: [entry] }),
                [],
            );
        }
        assertViolations(
            await violations(withImage("mongo-express:1"), {
                allowedRegistries: ["docker.io/library/mongo"],
            }),
            [/is docker\.io\/library\/mongo-express, which is not under/],
        );
    });

    it("requires a digest when configured", async () => {
        assertViolations(await violations(withImage("mongo:7.0.41"), { requireDigest: true }), [
            /image "mongo:7\.0\.41" has no @sha256: digest, which this stack requires\. Why: A tag is a pointer/,
        ]);
        for (const image of [`mongo@${DIGEST}`, `mongo:7.0.41@${DIGEST}`]) {
            assertViolations(await violations(withImage(image), { requireDigest: true }), []);
        }
        assertViolations(
            await violations(withImage("quay.io/x:1"), { ...PROD, requireDigest: true }),
            [/is quay\.io\/x, which is not under.*; image "quay\.io\/x:1" has no @sha256: digest/],
        );
    });

    it("leaves a missing image to image-pinned", async () => {
        assertViolations(await violations(withImage(""), { ...PROD, requireDigest: true }), []);
        assertViolations(await violations(withImage(undefined), PROD), []);
    });

    it("checks init, sidecar and ephemeral containers, one message each", async () => {
        const f = workload(
            "kubernetes:core/v1:Pod",
            podSpec([container("nuve", { image: `lynckia/licode@${DIGEST}` })], {
                initContainers: [
                    initContainer("wait", { image: "busybox:1.36" }),
                    initContainer("proxy", {
                        image: "envoyproxy/envoy:v1",
                        restartPolicy: "Always",
                    }),
                ],
                ephemeralContainers: [{ name: "debug", image: "nicolaka/netshoot:v0.13" }],
            }),
        );
        assertViolations(await violations(f, { ...PROD, requireDigest: true }), [
            /^Pod "licode-nuve" init container "wait" \(spec\.initContainers\[0\]\): image "busybox:1\.36" has no @sha256: digest/,
            /^Pod "licode-nuve" sidecar container "proxy" .*docker\.io\/envoyproxy\/envoy, which is not under.*; .*no @sha256/,
            /^Pod "licode-nuve" ephemeral container "debug" .*docker\.io\/nicolaka\/netshoot/,
        ]);
    });

    for (const k of [...WORKLOAD_KINDS, ...PATCH_KINDS]) {
        it(`checks ${k.kind}`, async () => {
            assertViolations(await violations(withImage("quay.io/licode:v10", k.type), PROD), [
                new RegExp(`^${k.kind} "licode-nuve" container "nuve" .*quay\\.io/licode`),
            ]);
        });
    }

    describe("exemptions limited to an image", () => {
        const reason = "no published digest";
        const licode = (image = "lynckia/licode:v10") =>
            workload(
                DEPLOYMENT,
                podSpec([container("nuve", { image })], {
                    initContainers: [initContainer("wait", { image: `mongo@${DIGEST}` })],
                }),
            );
        const config = (exemption: Record<string, unknown>) => ({
            ...PROD,
            requireDigest: true,
            exemptions: [{ reason, expires: "2099-12-31", ...exemption }],
        });
        it("cover every resource running the image, and only that image", async () => {
            const c = config({ resource: "*", image: "docker.io/lynckia/licode:v10" });
            assertViolations(await violations(licode(), c), []);
            assertViolations(await violations(licode("docker.io/lynckia/licode:v10"), c), []);
            assertViolations(await violations(licode("lynckia/licode:v11"), c), [
                /image "lynckia\/licode:v11" has no @sha256: digest/,
            ]);
            assertViolations(await violations(licode("quay.io/lynckia/licode:v10"), c), [
                /quay\.io\/lynckia\/licode, which is not under.*no @sha256/,
            ]);
        });
        it("may leave the tag out, and may name one resource", async () => {
            const c = config({ resource: "licode-nuve", image: "lynckia/licode" });
            assertViolations(await violations(licode("lynckia/licode:v11"), c), []);
            const other = config({ resource: "licode-erizo-agent", image: "lynckia/licode" });
            assertViolations(await violations(licode(), other), [/no @sha256/]);
        });
        it("are reported when invalid, where the image runs", async () => {
            const expired = config({
                resource: "*",
                image: "lynckia/licode:v10",
                expires: "2020-01-01",
            });
            assertViolations(await violations(licode(), expired), [
                /"image-digest-and-registry" exemption for resource "\*", image "lynckia\/licode:v10" expired on 2020-01-01/,
                /container "nuve" .*no @sha256/,
            ]);
            assertViolations(await violations(licode("lynckia/licode:v11"), expired), [
                /no @sha256/,
            ]);
            assertViolations(await violations(licode(), config({ resource: "*" })), [
                /exemption for resource "\*" names every resource \("\*"\) without an "image"/,
                /no @sha256/,
            ]);
        });
    });

    it("prod requires digests from docker.io/library, docker.io/lynckia and docker.io/coturn, exempting Licode v10 and coturn 4.17.0-r0", () => {
        const file = path.resolve(__dirname, "..", "..", "policy", "config", "prod.json");
        const prod = JSON.parse(fs.readFileSync(file, "utf8"))["image-digest-and-registry"];
        assert.deepStrictEqual(prod, {
            enforcementLevel: "mandatory",
            requireDigest: true,
            allowedRegistries: ["docker.io/library", "docker.io/lynckia", "docker.io/coturn"],
            exemptions: [
                {
                    resource: "*",
                    image: "docker.io/lynckia/licode:v10",
                    reason:
                        "lynckia/licode:v10 has no published digest; set licode:image.digest to " +
                        "the digest your registry reports for the image you tested",
                    expires: "2027-03-31",
                },
                {
                    resource: "*",
                    image: "docker.io/coturn/coturn:4.17.0-r0",
                    reason:
                        "no public record this project can cite holds the digest of " +
                        "coturn/coturn:4.17.0-r0; set licode:turn.image.digest to the digest " +
                        "your registry reports for the image you tested",
                    expires: "2027-03-31",
                },
            ],
        });
    });

    it("skips an image unknown during preview", async () => {
        assertViolations(
            await violations(withImage(UNKNOWN), { ...PROD, requireDigest: true }),
            [],
        );
    });
});
