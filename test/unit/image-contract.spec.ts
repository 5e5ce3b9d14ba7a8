/**
 * The manifests rely on the images only through components/images.ts: every probe, hook, command,
 * mount, user and environment variable of every stack is one the contract's builders produce.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON here */
import * as assert from "assert";
import * as vm from "vm";
import { NUVE_STOP } from "../../components/nuve";
import { dataOwnerCommand } from "../../components/mongodb";
import { agentDrain } from "../../components/erizo-agent";
import { NUVE_URL_ENV, controllerDrain } from "../../components/erizo-controller";
import {
    DRAIN_DIR,
    agentDrainScript,
    controllerDrainScript,
    preStop,
    quiesceAndStopScript,
} from "../../components/hooks";
import { COTURN, LICODE, MONGO, RABBITMQ } from "../../components/images";
import {
    NODE_NAME_ENV,
    RECORDINGS_DIR,
    SIGNALLING_CERT_DIR,
    log4jsPath,
} from "../../components/licode-config-file";
import {
    erizoAgentProbes,
    erizoControllerProbes,
    mongoProbes,
    nuveProbes,
} from "../../components/probes";
import { CONFIG_FILE, DEFINITIONS_PATH, rabbitmqProbes } from "../../components/rabbitmq";
import { rovCommand, rovProbes } from "../../components/rov";
import { BOOTSTRAP_SCRIPT } from "../../components/superservice";
import { turnCommand, turnProbes } from "../../components/turn";
import { TURN_FILES, TURN_PATHS } from "../../components/turnserver-conf";
import { ProgramRun, StackResource, runProgram, stackConfig } from "../harness/program";

const WORKLOADS = ["Deployment", "StatefulSet", "DaemonSet", "Job"];
const kindOf = (r: StackResource) => r.type.split(":").pop() ?? "";
const workloads = (run: ProgramRun) =>
    run.resources.filter((r) => r.type.startsWith("kubernetes:") && WORKLOADS.includes(kindOf(r)));
const find = (run: ProgramRun, kind: string, name: string) => {
    const found = run.resources.find((r) => kindOf(r) === kind && r.name === name);
    assert.ok(found, `no ${kind} ${name}`);
    return found;
};
const podSpec = (r: StackResource) => r.props.spec.template.spec;
const PROBES = ["startupProbe", "readinessProbe", "livenessProbe"] as const;

/** The probes and hook each long-running container must carry, as the contract builds them. */
function expectedFor(workload: StackResource, container: any): Record<string, unknown> {
    const probesOf = (probes: object) => ({ ...probes, lifecycle: undefined });
    if (kindOf(workload) === "Deployment" && workload.name === "nuve") {
        return { ...nuveProbes(), lifecycle: preStop(quiesceAndStopScript(NUVE_STOP)) };
    }
    const grace = podSpec(workload).terminationGracePeriodSeconds;
    if (kindOf(workload) === "Deployment" && workload.name === "erizo-controller") {
        const port = container.ports[0].containerPort;
        return {
            ...erizoControllerProbes(port),
            lifecycle: preStop(controllerDrainScript(controllerDrain(grace), port)),
        };
    }
    if (workload.name === "turn") {
        return { ...turnProbes(), lifecycle: undefined };
    }
    if (kindOf(workload) === "DaemonSet" && workload.name.startsWith("erizo-agent-")) {
        const env = (name: string) => Number(container.env.find((e: any) => e.name === name).value);
        const range = { min: env(LICODE.env.minPort), max: env(LICODE.env.maxPort) };
        return {
            ...erizoAgentProbes(),
            lifecycle: preStop(agentDrainScript(agentDrain(grace), range)),
        };
    }
    if (workload.name === "mongodb") {
        return probesOf(mongoProbes());
    }
    if (workload.name === "rabbitmq") {
        return probesOf(rabbitmqProbes());
    }
    if (kindOf(workload) === "Deployment" && workload.name === "rov") {
        return probesOf(rovProbes());
    }
    throw new Error(`no contract for ${kindOf(workload)} ${workload.name}`);
}

/** Every path the contract lets a container mount. */
const MOUNT_PATHS = new Set<string>([
    LICODE.defaultConfigFile,
    // ROV only: it runs without the entrypoint, so nothing copies the config into place for it.
    LICODE.configFile,
    log4jsPath(LICODE.installDir),
    SIGNALLING_CERT_DIR,
    RECORDINGS_DIR,
    MONGO.dataDir,
    MONGO.configDbDir,
    RABBITMQ.dataDir,
    RABBITMQ.logDir,
    `${RABBITMQ.confDir}/${CONFIG_FILE}`,
    DEFINITIONS_PATH,
    DRAIN_DIR,
    "/tmp",
    // coturn (images.ts COTURN): its database directory, and the program's own files.
    COTURN.dataDir,
    TURN_PATHS.templateDir,
    TURN_PATHS.runDir,
    TURN_PATHS.certDir,
]);

for (const stack of ["dev", "prod", "local"]) {
    describe(`the image contract in the ${stack} stack`, () => {
        let run: ProgramRun;
        before(async () => {
            run = await runProgram(stack, stackConfig(stack));
        });

        it("builds every probe and hook of a long-running container from images.ts", () => {
            let checked = 0;
            for (const workload of workloads(run).filter((w) => kindOf(w) !== "Job")) {
                for (const container of podSpec(workload).containers) {
                    const expected = expectedFor(workload, container);
                    for (const field of [...PROBES, "lifecycle"]) {
                        assert.deepStrictEqual(
                            container[field],
                            expected[field],
                            `${workload.name}/${container.name} ${field}`,
                        );
                    }
                    checked++;
                }
            }
            assert.ok(checked >= 5, `only ${checked} containers checked`);
        });

        it("runs only commands the contract knows in init containers and Jobs", () => {
            const known = [
                dataOwnerCommand().join(" "),
                `/bin/bash -c ${BOOTSTRAP_SCRIPT}`,
                rovCommand().join(" "),
                turnCommand().join(" "),
                `/bin/sh ${TURN_PATHS.templateDir}/${TURN_FILES.prepare}`,
            ];
            for (const workload of workloads(run)) {
                const spec = podSpec(workload);
                for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
                    if (container.command === undefined) {
                        continue;
                    }
                    const command = container.command.join(" ");
                    // Nuve's dependency wait is built from the Services it waits for.
                    const waits = /^\/bin\/bash -c until \(exec 3<>\/dev\/tcp\//.test(command);
                    assert.ok(
                        waits || known.includes(command),
                        `${workload.name}/${container.name} runs ${command.slice(0, 80)}`,
                    );
                }
            }
        });

        it("mounts only paths the images write or read, and no service-account token", () => {
            for (const workload of workloads(run)) {
                const spec = podSpec(workload);
                assert.strictEqual(spec.automountServiceAccountToken, false, workload.name);
                for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
                    for (const mount of container.volumeMounts ?? []) {
                        assert.ok(
                            MOUNT_PATHS.has(mount.mountPath),
                            `${workload.name}/${container.name} mounts ${mount.mountPath}`,
                        );
                    }
                }
            }
        });

        it("runs each image as the user it expects, and the Licode tiers with its flags", () => {
            const users: Record<string, number> = { mongodb: MONGO.uid, rabbitmq: RABBITMQ.uid };
            for (const workload of workloads(run)) {
                const spec = podSpec(workload);
                for (const container of spec.containers) {
                    if (users[workload.name] !== undefined) {
                        assert.strictEqual(
                            container.securityContext.runAsUser,
                            users[workload.name],
                        );
                        assert.strictEqual(container.securityContext.readOnlyRootFilesystem, true);
                    }
                    if (workload.name === "rov") {
                        // Node on ROV's script from the Licode image, as root; it writes nothing.
                        assert.deepStrictEqual(container.command, rovCommand());
                        assert.strictEqual(container.workingDir, LICODE.rov.workingDir);
                        assert.strictEqual(container.securityContext.runAsUser, undefined);
                        assert.strictEqual(container.securityContext.readOnlyRootFilesystem, true);
                        assert.strictEqual(container.env, undefined);
                    } else if (container.image.startsWith("lynckia/licode")) {
                        assert.strictEqual(container.securityContext.runAsUser, undefined);
                        assert.strictEqual(container.securityContext.readOnlyRootFilesystem, false);
                        assert.ok(
                            Object.values(LICODE.flags).includes(container.args[0]),
                            container.args[0],
                        );
                        const names = new Set<string>([
                            ...Object.values(LICODE.env),
                            NODE_NAME_ENV,
                            NUVE_URL_ENV,
                        ]);
                        for (const env of container.env ?? []) {
                            assert.ok(names.has(env.name), `${workload.name} sets ${env.name}`);
                        }
                    }
                }
            }
        });
    });
}

describe("the tiers against their images", () => {
    let dev: ProgramRun;
    let prod: ProgramRun;
    let local: ProgramRun;
    before(async () => {
        dev = await runProgram("dev", stackConfig("dev"));
        prod = await runProgram("prod", stackConfig("prod"));
        local = await runProgram("local", stackConfig("local"));
    });

    it("hands a hostPath data directory to MongoDB's user, and pins the volume to its node", () => {
        for (const [run, node] of [
            [dev, "dev-storage-0"],
            [local, "general-0"],
        ] as const) {
            const [init] = podSpec(find(run, "StatefulSet", "mongodb")).initContainers;
            assert.deepStrictEqual(init.command, dataOwnerCommand());
            assert.deepStrictEqual(init.securityContext.capabilities, {
                drop: ["ALL"],
                add: ["CHOWN"],
            });
            assert.strictEqual(init.securityContext.allowPrivilegeEscalation, false);
            const volume = find(run, "PersistentVolume", "mongodb-data").props.spec;
            assert.deepStrictEqual(volume.nodeAffinity.required.nodeSelectorTerms, [
                {
                    matchExpressions: [
                        { key: "kubernetes.io/hostname", operator: "In", values: [node] },
                    ],
                },
            ]);
        }
        // NFS: the server decides ownership (root squash would refuse a chown anyway).
        assert.deepStrictEqual(podSpec(find(prod, "StatefulSet", "mongodb")).initContainers, []);
    });

    it("keeps mongosh's HOME out of MongoDB's data directory", () => {
        const [mongod] = podSpec(find(prod, "StatefulSet", "mongodb")).containers;
        assert.deepStrictEqual(
            mongod.env.find((e: any) => e.name === "HOME"),
            { name: "HOME", value: "/tmp" },
        );
    });

    it("tells RabbitMQ its memory limit, and admits its management port to the drain", () => {
        for (const run of [dev, prod]) {
            const sts = find(run, "StatefulSet", "rabbitmq");
            const limit = podSpec(sts).containers[0].resources.limits.memory;
            const bytes = { "512Mi": 512 * 2 ** 20 }[limit as string];
            const file: string = find(run, "ConfigMap", "rabbitmq-config").props.data[CONFIG_FILE];
            assert.match(
                file,
                new RegExp(`^total_memory_available_override_value = ${bytes}$`, "m"),
            );
            assert.match(file, /^deprecated_features\.permit\.transient_nonexcl_queues = true$/m);
        }
        const policy = find(dev, "NetworkPolicy", "rabbitmq").props.spec.ingress[0];
        assert.deepStrictEqual(
            policy.ports.map((p: any) => p.port),
            [RABBITMQ.amqpPort, RABBITMQ.managementPort],
        );
        // The management API always admits the same clients: the media drain uses it.
        const prodPolicy = find(prod, "NetworkPolicy", "rabbitmq").props.spec.ingress[0];
        assert.deepStrictEqual(
            prodPolicy.ports.map((p: any) => p.port),
            [RABBITMQ.amqpPort, RABBITMQ.managementPort],
        );
    });

    it("serves signalling over TLS in prod, each controller under its node's name", () => {
        const spec = podSpec(find(prod, "Deployment", "erizo-controller"));
        assert.ok(
            spec.volumes.some(
                (v: any) =>
                    v.secret?.secretName === "signalling-tls" && v.name === "signalling-tls",
            ),
        );
        assert.ok(
            spec.containers[0].volumeMounts.some((m: any) => m.mountPath === SIGNALLING_CERT_DIR),
        );
        const source: string = find(prod, "Secret", "licode-config").props.stringData[
            "licode_config.js"
        ];
        const config = evaluate(source, { [NODE_NAME_ENV]: "signalling-3" });
        assert.strictEqual(
            config.erizoController.hostname,
            "signalling-3.signalling.licode.example.com",
        );
        assert.strictEqual(config.erizoController.listen_ssl, true);
        assert.strictEqual(config.erizoController.ssl, true);
        assert.strictEqual(config.erizoController.ssl_key, `${SIGNALLING_CERT_DIR}/tls.key`);
        assert.strictEqual(config.erizoController.ssl_cert, `${SIGNALLING_CERT_DIR}/tls.crt`);
        const devConfig = evaluate(
            find(dev, "Secret", "licode-config").props.stringData["licode_config.js"],
            {},
        );
        assert.strictEqual(devConfig.erizoController.listen_ssl, false);
        assert.strictEqual(devConfig.erizoController.ssl_key, undefined);
    });

    it("gives recordings a size-limited volume where ErizoJS writes them", () => {
        for (const agent of prod.resources.filter(
            (r) => kindOf(r) === "DaemonSet" && r.name.startsWith("erizo-agent-"),
        )) {
            const spec = podSpec(agent);
            assert.deepStrictEqual(
                spec.volumes.find((v: any) => v.name === "recordings"),
                { name: "recordings", emptyDir: { sizeLimit: "1Gi" } },
            );
            assert.ok(
                spec.containers[0].volumeMounts.some(
                    (m: any) => m.name === "recordings" && m.mountPath === RECORDINGS_DIR,
                ),
            );
        }
        const config = evaluate(
            find(prod, "Secret", "licode-config").props.stringData["licode_config.js"],
            {},
        );
        assert.strictEqual(config.erizoController.recording_path, `${RECORDINGS_DIR}/`);
    });
});

/** Evaluates a rendered licode_config.js as node's `require` would, with `env` as process.env. */
function evaluate(source: string, env: Record<string, string>): any {
    const module = { exports: {} as any };
    vm.runInNewContext(source, { module, process: { env } });
    return module.exports;
}
