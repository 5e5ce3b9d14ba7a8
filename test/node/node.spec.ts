// Real nodes (tools/node): the suite brings up its own cluster with three real nodes (own state dir,
// ports, node addresses, pod range and device prefix, so a demo cluster can run beside it), runs pods
// on them, and takes it down again, pass or fail. Then it proves that `cluster.sh down` leaves
// nothing on the host, also after an `up` killed with SIGKILL half-way. Needs root; the node binaries
// and system images are built (and cached) by the first `up` if they are not yet.
//
//   npm run test:node            (LICODE_NODE_TEST_KEEP=1 keeps the temporary directory with the logs)

import * as assert from "assert";
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import {
    CLUSTER_SH,
    HostSnapshot,
    KObject,
    NODE_IP_PREFIX,
    NodeSuite,
    ROOT,
    cluster,
    createNodeSuite,
    explain,
    getJson,
    hostSnapshot,
    kubectl,
    kubectlOk,
    leftovers,
    run,
    waitFor,
    waitPodReady,
} from "./lib";

const NS = "node-test";
const NODES = ["signalling-0", "signalling-1", "media-0"];
const NODE_IPS = NODES.map((_, i) => `${NODE_IP_PREFIX}${11 + i}`);

interface BuiltImage {
    archive: string;
    ref: string;
    digest: string;
    /** <name> without the tag. */
    name: string;
    tag: string;
}

function parseImageLine(line: string): BuiltImage {
    const [archive, ref, digest] = line.trim().split("\t");
    const colon = ref.lastIndexOf(":");
    return { archive, ref, digest, name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
}

/** A pod of the test image: `script` runs under sh; extra fields merge into the pod spec. */
function podYaml(
    name: string,
    image: string,
    script: string,
    spec: Record<string, unknown> = {},
    labels: Record<string, string> = {},
    container: Record<string, unknown> = {},
): string {
    return JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: NS, labels: { test: "node", ...labels } },
        spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
                {
                    name: "main",
                    image,
                    imagePullPolicy: "IfNotPresent",
                    command: ["/bin/sh", "-c", script],
                    ...container,
                },
            ],
            ...spec,
        },
    });
}

function onNode(node: string): Record<string, unknown> {
    return { nodeSelector: { "kubernetes.io/hostname": node } };
}

/** An HTTP server pod: busybox httpd serving its hostname (or `body`) on `port`. */
function webScript(port: number | string, body = "$(hostname)"): string {
    return `mkdir -p /tmp/www && echo "${body}" > /tmp/www/index.html && exec httpd -f -p ${port} -h /tmp/www`;
}

/** Pod events as "reason: message" lines. */
function podEvents(suite: NodeSuite, pod: string): string[] {
    const list = getJson<{ items: { reason: string; message: string }[] }>(suite, [
        "-n",
        NS,
        "get",
        "events",
        "--field-selector",
        `involvedObject.name=${pod}`,
    ]);
    return list.items.map((e) => `${e.reason}: ${e.message}`);
}

/** Runs `wget` in a pod; the body on success, undefined on failure. */
function wgetFrom(
    suite: NodeSuite,
    pod: string,
    url: string,
    timeoutSeconds = 3,
): string | undefined {
    // busybox's `wget -T` crashes (Debian's busybox-static 1.35): bound it with `timeout` instead.
    const ran = kubectl(suite, [
        "-n",
        NS,
        "exec",
        pod,
        "--",
        "timeout",
        String(timeoutSeconds),
        "wget",
        "-q",
        "-O",
        "-",
        url,
    ]);
    return ran.status === 0 ? ran.stdout.trim() : undefined;
}

async function httpGet(url: string): Promise<string | undefined> {
    try {
        const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
        return response.ok ? (await response.text()).trim() : undefined;
    } catch {
        return undefined;
    }
}

function serviceIp(suite: NodeSuite, namespace: string, name: string): string {
    return kubectlOk(suite, [
        "-n",
        namespace,
        "get",
        "service",
        name,
        "-o",
        "jsonpath={.spec.clusterIP}",
    ]).trim();
}

describe("real nodes (tools/node)", function () {
    this.timeout(30 * 60 * 1000);
    const suite = createNodeSuite();
    let baseline: HostSnapshot;
    let image: BuiltImage;
    let up = false;

    before(function () {
        assert.strictEqual(
            process.getuid?.(),
            0,
            "the real-node tests need root (netns, cgroups, mounts)",
        );
        const built = run(suite, "bash", [path.join(ROOT, "tools/images/test-busybox/build.sh")], {
            timeoutSeconds: 600,
        });
        assert.strictEqual(built.status, 0, explain("tools/images/test-busybox/build.sh", built));
        image = parseImageLine(built.stdout.trim().split("\n").pop() ?? "");
        baseline = hostSnapshot();
        const started = cluster(suite, ["up"]);
        up = true;
        assert.strictEqual(started.status, 0, explain("cluster.sh up", started));
        const imported = cluster(suite, ["import", image.archive], 600);
        assert.strictEqual(imported.status, 0, explain("cluster.sh import", imported));
        kubectlOk(suite, ["create", "namespace", NS]);
    });

    after(function () {
        if (up) {
            cluster(suite, ["down"]);
        }
        if (!process.env.LICODE_NODE_TEST_KEEP) {
            fs.rmSync(suite.dir, { recursive: true, force: true });
        } else {
            console.log(`kept ${suite.dir}`);
        }
    });

    it("registers every real node Ready, with the kwok nodes' names, labels and addresses", function () {
        const nodes = getJson<{ items: KObject[] }>(suite, ["get", "nodes"]).items;
        assert.deepStrictEqual(nodes.map((n) => n.metadata.name).sort(), [...NODES].sort());
        for (const [i, name] of NODES.entries()) {
            const node = nodes.find((n) => n.metadata.name === name) as KObject & {
                metadata: { labels: Record<string, string> };
                status: {
                    addresses: { type: string; address: string }[];
                    conditions: { type: string; status: string }[];
                    nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string };
                };
                spec: { podCIDR?: string };
            };
            const ready = node.status.conditions.find((c) => c.type === "Ready");
            assert.strictEqual(ready?.status, "True", `${name} is not Ready`);
            assert.deepStrictEqual(
                node.status.addresses.find((a) => a.type === "InternalIP")?.address,
                NODE_IPS[i],
            );
            assert.strictEqual(node.status.nodeInfo.kubeletVersion, "v1.36.3");
            assert.match(
                node.status.nodeInfo.containerRuntimeVersion,
                /^containerd:\/\/v?2\.3\.\d+$/,
            );
            assert.strictEqual(node.spec.podCIDR, `10.246.${i + 1}.0/24`);
            if (name.startsWith("signalling-")) {
                assert.strictEqual(node.metadata.labels["licode.io/signalling"], "true");
            } else {
                assert.strictEqual(node.metadata.labels["licode.io/media"], "true");
                assert.strictEqual(node.metadata.labels["licode.io/media-pool"], "default");
            }
        }
    });

    it("turns a pod Ready by the kubelet's own readiness probe; logs and exec go through the API server", async function () {
        const readiness = {
            exec: { command: ["cat", "/tmp/ready"] },
            periodSeconds: 1,
            failureThreshold: 1,
        };
        kubectlOk(
            suite,
            ["apply", "-f", "-"],
            podYaml(
                "probe",
                `${image.ref}@${image.digest}`,
                "echo started-$(hostname); exec sleep 3600",
                onNode(NODES[0]),
                {},
                {
                    readinessProbe: readiness,
                },
            ),
        );
        // The probe fails (the file is missing) and the kubelet says so ...
        await waitFor(
            "a failed readiness probe event",
            180,
            () =>
                podEvents(suite, "probe").some((e) =>
                    e.startsWith("Unhealthy: Readiness probe failed"),
                )
                    ? true
                    : undefined,
            () => podEvents(suite, "probe").join("\n"),
        );
        const notReady = getJson(suite, ["-n", NS, "get", "pod", "probe"]);
        const conditions = notReady.status?.conditions as { type: string; status: string }[];
        assert.strictEqual(conditions.find((c) => c.type === "Ready")?.status, "False");
        // ... until exec (API server -> kubelet -> containerd) creates it.
        const touched = kubectl(suite, ["-n", NS, "exec", "probe", "--", "touch", "/tmp/ready"]);
        assert.strictEqual(touched.status, 0, explain("kubectl exec", touched));
        await waitPodReady(suite, NS, "probe", 60);
        const hostname = kubectl(suite, ["-n", NS, "exec", "probe", "--", "cat", "/etc/hostname"]);
        assert.strictEqual(hostname.stdout.trim(), "probe");
        const logs = kubectlOk(suite, ["-n", NS, "logs", "probe"]);
        assert.match(logs, /^started-probe$/m);
    });

    it("runs imported images by digest with IfNotPresent and never pulls them", async function () {
        const forms: Record<string, string> = {
            "by-tag-and-digest": `${image.name}:${image.tag}@${image.digest}`,
            "by-digest": `${image.name}@${image.digest}`,
            "by-tag": image.ref,
        };
        for (const [pod, ref] of Object.entries(forms)) {
            kubectlOk(
                suite,
                ["apply", "-f", "-"],
                podYaml(pod, ref, "exec sleep 3600", onNode(NODES[1])),
            );
        }
        for (const [pod, ref] of Object.entries(forms)) {
            await waitPodReady(suite, NS, pod, 120);
            const events = podEvents(suite, pod);
            assert.ok(
                events.some(
                    (e) => e.startsWith("Pulled:") && e.includes("already present on machine"),
                ),
                `${ref}: no "already present" event:\n${events.join("\n")}`,
            );
            assert.ok(
                !events.some((e) => e.startsWith("Pulling:")),
                `${ref} was pulled:\n${events.join("\n")}`,
            );
        }
        // An image that was not imported is not there: the kubelet would have to pull it, and fails.
        kubectlOk(
            suite,
            ["apply", "-f", "-"],
            podYaml("not-imported", "localhost/not-imported:1", "true", onNode(NODES[1])),
        );
        await waitFor(
            "ErrImagePull for an image that was never imported",
            120,
            () => {
                const pod = getJson(suite, ["-n", NS, "get", "pod", "not-imported"]);
                const statuses = (pod.status?.containerStatuses ?? []) as {
                    state: { waiting?: { reason: string } };
                }[];
                const reason = statuses[0]?.state.waiting?.reason ?? "";
                return ["ErrImagePull", "ImagePullBackOff"].includes(reason) ? reason : undefined;
            },
            () => podEvents(suite, "not-imported").join("\n"),
        );
    });

    it("runs an image packed by oci-pack.js with its config (entrypoint, env, user, workdir)", async function () {
        // A rootfs of the test image's layer plus one file; a config that the container must honour.
        const work = fs.mkdtempSync(path.join(suite.dir, "oci-"));
        const rootfs = path.join(work, "rootfs");
        fs.mkdirSync(rootfs);
        const layout = path.join(work, "layout");
        fs.mkdirSync(layout);
        assert.strictEqual(run(suite, "tar", ["-xf", image.archive, "-C", layout]).status, 0);
        const index = JSON.parse(fs.readFileSync(path.join(layout, "index.json"), "utf8"));
        const manifestFile = path.join(
            layout,
            "blobs",
            ...(index.manifests[0].digest as string).split(":"),
        );
        const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8"));
        const layer = path.join(
            layout,
            "blobs",
            ...(manifest.layers[0].digest as string).split(":"),
        );
        assert.strictEqual(run(suite, "tar", ["-xzf", layer, "-C", rootfs]).status, 0);
        const greeting = `packed-${crypto.randomBytes(4).toString("hex")}`;
        fs.writeFileSync(path.join(rootfs, "etc", "greeting"), `${greeting}\n`);
        const config = path.join(work, "config.json");
        fs.writeFileSync(
            config,
            JSON.stringify({
                Entrypoint: ["/bin/sh", "-c"],
                Cmd: [
                    'echo "$(cat /etc/greeting) user=$(id -u):$(id -g) wd=$(pwd) env=$GREETING"; exec sleep 3600',
                ],
                Env: ["PATH=/bin:/usr/bin", "GREETING=hello"],
                User: "65534:65534",
                WorkingDir: "/tmp",
            }),
        );
        const archive = path.join(work, "image.tar");
        const ref = "localhost/oci-pack-test:1";
        const packed = run(suite, "node", [
            path.join(ROOT, "tools/images/oci-pack.js"),
            rootfs,
            config,
            archive,
            ref,
        ]);
        assert.strictEqual(packed.status, 0, explain("oci-pack.js", packed));
        const digest = packed.stdout.trim();
        assert.match(digest, /^sha256:[0-9a-f]{64}$/);
        const imported = cluster(suite, ["import", archive], 600);
        assert.strictEqual(imported.status, 0, explain("cluster.sh import", imported));
        kubectlOk(
            suite,
            ["apply", "-f", "-"],
            JSON.stringify({
                apiVersion: "v1",
                kind: "Pod",
                metadata: { name: "packed", namespace: NS },
                spec: {
                    terminationGracePeriodSeconds: 1,
                    nodeSelector: { "kubernetes.io/hostname": NODES[2] },
                    containers: [
                        {
                            name: "main",
                            image: `localhost/oci-pack-test@${digest}`,
                            imagePullPolicy: "IfNotPresent",
                        },
                    ],
                },
            }),
        );
        await waitPodReady(suite, NS, "packed", 120);
        const logs = await waitFor("the packed image's output", 60, () => {
            const out = kubectlOk(suite, ["-n", NS, "logs", "packed"]);
            return out.includes(greeting) ? out.trim() : undefined;
        });
        assert.strictEqual(logs, `${greeting} user=65534:65534 wd=/tmp env=hello`);
    });

    describe("networking", function () {
        let webIp: string;
        before(async function () {
            // A web server on the first node, reached from the others.
            kubectlOk(
                suite,
                ["apply", "-f", "-"],
                podYaml(
                    "web",
                    `${image.name}@${image.digest}`,
                    webScript(8080),
                    onNode(NODES[0]),
                    { app: "web" },
                    {
                        readinessProbe: { httpGet: { path: "/", port: 8080 }, periodSeconds: 1 },
                    },
                ),
            );
            kubectlOk(
                suite,
                ["apply", "-f", "-"],
                JSON.stringify({
                    apiVersion: "v1",
                    kind: "Service",
                    metadata: { name: "web", namespace: NS },
                    spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
                }),
            );
            kubectlOk(
                suite,
                ["apply", "-f", "-"],
                JSON.stringify({
                    apiVersion: "v1",
                    kind: "Service",
                    metadata: { name: "web-nodeport", namespace: NS },
                    spec: {
                        type: "NodePort",
                        selector: { app: "web" },
                        ports: [{ port: 80, targetPort: 8080 }],
                    },
                }),
            );
            kubectlOk(
                suite,
                ["apply", "-f", "-"],
                podYaml(
                    "client",
                    `${image.name}@${image.digest}`,
                    "exec sleep 3600",
                    onNode(NODES[2]),
                ),
            );
            kubectlOk(
                suite,
                ["apply", "-f", "-"],
                podYaml("hostnet-client", `${image.name}@${image.digest}`, "exec sleep 3600", {
                    ...onNode(NODES[1]),
                    hostNetwork: true,
                    dnsPolicy: "ClusterFirstWithHostNet",
                }),
            );
            for (const pod of ["web", "client", "hostnet-client"]) {
                await waitPodReady(suite, NS, pod);
            }
            webIp = serviceIp(suite, NS, "web");
        });

        it("resolves kubernetes.default and a Service name through cluster DNS, from a pod and a host-network pod", async function () {
            const apiIp = serviceIp(suite, "default", "kubernetes");
            for (const pod of ["client", "hostnet-client"]) {
                const resolvConf = kubectlOk(suite, [
                    "-n",
                    NS,
                    "exec",
                    pod,
                    "--",
                    "cat",
                    "/etc/resolv.conf",
                ]);
                assert.match(resolvConf, /^nameserver 10\.96\.0\.10$/m, `${pod}: ${resolvConf}`);
                assert.match(
                    resolvConf,
                    new RegExp(
                        `^search ${NS}\\.svc\\.cluster\\.local svc\\.cluster\\.local cluster\\.local`,
                        "m",
                    ),
                );
                // getent: glibc's resolver, with the search list and ndots as any libc client.
                const resolve = (name: string) =>
                    kubectl(suite, ["-n", NS, "exec", pod, "--", "getent", "hosts", name]);
                for (const [name, ip, fqdn] of [
                    ["kubernetes.default", apiIp, "kubernetes.default.svc.cluster.local"],
                    ["web", webIp, `web.${NS}.svc.cluster.local`],
                    [`web.${NS}.svc.cluster.local`, webIp, `web.${NS}.svc.cluster.local`],
                ]) {
                    const answer = await waitFor(
                        `${pod} resolving ${name}`,
                        60,
                        () => {
                            const ran = resolve(name);
                            return ran.status === 0 ? ran.stdout.trim() : undefined;
                        },
                        () => explain(`getent hosts ${name}`, resolve(name)),
                    );
                    assert.deepStrictEqual(answer.split(/\s+/), [ip, fqdn], `${pod}: ${name}`);
                }
                // A name no zone serves does not resolve.
                assert.notStrictEqual(resolve("no-such-service").status, 0);
            }
        });

        it("routes a ClusterIP Service to a pod on another node", async function () {
            const body = await waitFor(
                "the web Service answering the client on another node",
                60,
                () => wgetFrom(suite, "client", `http://${webIp}/`),
            );
            assert.strictEqual(body, "web");
            assert.strictEqual(wgetFrom(suite, "client", "http://web/"), "web", "by its name");
            assert.strictEqual(wgetFrom(suite, "hostnet-client", `http://${webIp}/`), "web");
        });

        it("answers a NodePort on every node's address, from the host", async function () {
            const svc = getJson(suite, ["-n", NS, "get", "service", "web-nodeport"]);
            const nodePort = (svc.spec?.ports as { nodePort: number }[])[0].nodePort;
            for (const ip of NODE_IPS) {
                let body: string | undefined;
                const deadline = Date.now() + 60_000;
                while (
                    (body = await httpGet(`http://${ip}:${nodePort}/`)) === undefined &&
                    Date.now() < deadline
                ) {
                    // kube-proxy programs each node on its own schedule: poll this node until it answers.
                    await new Promise((resolve) => setTimeout(resolve, 500));
                }
                assert.strictEqual(body, "web", `NodePort ${nodePort} on ${ip}`);
            }
        });

        it("binds host-network pods to their node's eth0 address: the same port on two nodes", async function () {
            for (const [i, node] of NODES.slice(0, 2).entries()) {
                kubectlOk(
                    suite,
                    ["apply", "-f", "-"],
                    podYaml(
                        `hostnet-${i}`,
                        `${image.name}@${image.digest}`,
                        webScript("$HOST_IP:18080", "$NODE_NAME"),
                        { ...onNode(node), hostNetwork: true },
                        {},
                        {
                            env: [
                                {
                                    name: "HOST_IP",
                                    valueFrom: { fieldRef: { fieldPath: "status.hostIP" } },
                                },
                                {
                                    name: "NODE_NAME",
                                    valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } },
                                },
                            ],
                            readinessProbe: {
                                httpGet: { path: "/", port: 18080 },
                                periodSeconds: 1,
                            },
                        },
                    ),
                );
            }
            for (const [i, node] of NODES.slice(0, 2).entries()) {
                await waitPodReady(suite, NS, `hostnet-${i}`);
                const addr = kubectlOk(suite, [
                    "-n",
                    NS,
                    "exec",
                    `hostnet-${i}`,
                    "--",
                    "ip",
                    "-4",
                    "-o",
                    "addr",
                    "show",
                    "eth0",
                ]);
                assert.ok(addr.includes(` ${NODE_IPS[i]}/24 `), `eth0 of ${node}: ${addr}`);
                assert.strictEqual(await httpGet(`http://${NODE_IPS[i]}:18080/`), node);
            }
        });

        it("enforces a NetworkPolicy: the admitted pod reaches the server, the other does not", async function () {
            kubectlOk(
                suite,
                ["apply", "-f", "-"],
                podYaml(
                    "db",
                    `${image.name}@${image.digest}`,
                    webScript(8080, "db"),
                    onNode(NODES[0]),
                    { app: "db" },
                    {
                        readinessProbe: { httpGet: { path: "/", port: 8080 }, periodSeconds: 1 },
                    },
                ),
            );
            for (const [pod, labels] of [
                ["granted", { access: "granted" }],
                ["denied", {}],
            ] as const) {
                kubectlOk(
                    suite,
                    ["apply", "-f", "-"],
                    podYaml(
                        pod,
                        `${image.name}@${image.digest}`,
                        "exec sleep 3600",
                        onNode(NODES[2]),
                        labels,
                    ),
                );
            }
            for (const pod of ["db", "granted", "denied"]) {
                await waitPodReady(suite, NS, pod);
            }
            const dbIp = kubectlOk(suite, [
                "-n",
                NS,
                "get",
                "pod",
                "db",
                "-o",
                "jsonpath={.status.podIP}",
            ]).trim();
            // Without a policy both reach it.
            for (const pod of ["granted", "denied"]) {
                assert.strictEqual(
                    await waitFor(`${pod} reaching db`, 30, () =>
                        wgetFrom(suite, pod, `http://${dbIp}:8080/`),
                    ),
                    "db",
                );
            }
            kubectlOk(
                suite,
                ["apply", "-f", "-"],
                JSON.stringify({
                    apiVersion: "networking.k8s.io/v1",
                    kind: "NetworkPolicy",
                    metadata: { name: "db-ingress", namespace: NS },
                    spec: {
                        podSelector: { matchLabels: { app: "db" } },
                        policyTypes: ["Ingress"],
                        ingress: [
                            {
                                from: [{ podSelector: { matchLabels: { access: "granted" } } }],
                                ports: [{ port: 8080 }],
                            },
                        ],
                    },
                }),
            );
            await waitFor("the policy to deny the unlabelled pod", 60, () =>
                wgetFrom(suite, "denied", `http://${dbIp}:8080/`, 2) === undefined
                    ? true
                    : undefined,
            );
            for (let i = 0; i < 3; i++) {
                assert.strictEqual(
                    wgetFrom(suite, "granted", `http://${dbIp}:8080/`),
                    "db",
                    "the admitted pod was refused",
                );
                assert.strictEqual(
                    wgetFrom(suite, "denied", `http://${dbIp}:8080/`, 2),
                    undefined,
                    "the denied pod got through",
                );
            }
        });
    });
    // After the pods above: down must also remove what they made (mounts, netns, CNI state, rules).
    describe("teardown", function () {
        it("cluster.sh down leaves no process, mount, device, netns, rule or cgroup behind", function () {
            const down = cluster(suite, ["down"]);
            up = false;
            assert.strictEqual(down.status, 0, explain("cluster.sh down", down));
            const found = leftovers(baseline, hostSnapshot(), [suite.prefix, suite.dir]);
            assert.deepStrictEqual(
                found.ours,
                [],
                `left behind:\n${found.ours.join("\n")}\n(unrelated changes on the host:\n${found.unrelated.join("\n")})`,
            );
        });

        it("cluster.sh down also cleans up after an `up` killed with SIGKILL while the nodes start", async function () {
            const before = hostSnapshot();
            up = true; // whatever happens below, the after hook takes it down
            const log = fs.openSync(path.join(suite.logDir, "crashed-up.log"), "w");
            const child = spawn("bash", [CLUSTER_SH, "up"], {
                cwd: ROOT,
                env: suite.env,
                stdio: ["ignore", log, log],
            });
            const kubeletPid = path.join(
                suite.env.LICODE_CLUSTER_DIR as string,
                "pids",
                `node-${NODES[2]}.kubelet.pid`,
            );
            try {
                await waitFor(
                    "the last node's kubelet to be started",
                    600,
                    () => (fs.existsSync(kubeletPid) ? true : undefined),
                    () => fs.readFileSync(path.join(suite.logDir, "crashed-up.log"), "utf8"),
                    200,
                );
            } finally {
                child.kill("SIGKILL");
                fs.closeSync(log);
            }
            await new Promise((resolve) => child.once("exit", resolve));
            const during = leftovers(before, hostSnapshot(), [suite.prefix, suite.dir]);
            assert.ok(
                during.ours.length > 0,
                "the killed `up` left nothing running: the case proves nothing",
            );
            const down = cluster(suite, ["down"]);
            up = false;
            assert.strictEqual(down.status, 0, explain("cluster.sh down", down));
            const found = leftovers(baseline, hostSnapshot(), [suite.prefix, suite.dir]);
            assert.deepStrictEqual(
                found.ours,
                [],
                `left behind:\n${found.ours.join("\n")}\n(unrelated changes on the host:\n${found.unrelated.join("\n")})`,
            );
        });
    });
});
