/**
 * localhost/mongo-standin:ferretdb-1.24.2 (tools/images/mongodb/build.sh), a MongoDB-wire STAND-IN (FerretDB,
 * not mongod), run with runc as the local stack runs the mongo image: the StatefulSet's data-owner init
 * container on a root-owned hostPath directory, then the server with its user, read-only root, volumes, env
 * (MONGO_INITDB_ROOT_* from the program's Secret) and args, and its own probes; the superservice bootstrap
 * Job's container twice; and Nuve's own driver. What the stand-in leaves untested: README.md "Local images".
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- manifests and the 3.6 driver are untyped here */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LOCAL_IMAGES, MONGO } from "../../components/images";
import { BOOTSTRAP_SCRIPT } from "../../components/superservice";
import { StackResource } from "../harness/program";
import { stackResources } from "../harness/stack";
import {
    PodVolumes,
    containerSpec,
    podContainer,
    probeOnce,
    resourceNamed,
    waitForProbe,
} from "./kube-pod";
import { nuveMongoDriver } from "./nuve-driver";
import { requireRunc } from "./prerequisites";
import { Container, ContainerSpec, NetNs, UnpackedImage, buildImage, unpackImage } from "./runc";

const ROOT = path.resolve(__dirname, "..", "..");
const PREFIX = `lkimg-mongo-${process.pid}`;
const DATA_CLAIM = "licode-mongodb-data";

describe("image localhost/mongo-standin:ferretdb-1.24.2 (a FerretDB stand-in for mongo), run as the local stack runs mongo", function () {
    this.timeout(600_000);

    let workDir = "";
    let dataDir = "";
    let image: UnpackedImage | undefined;
    let resources: StackResource[] = [];
    let pod: any;
    let job: any;
    let netns: NetNs | undefined;
    let server: Container | undefined;
    let volumes: PodVolumes | undefined;
    let runs = 0;
    const stopped: Container[] = [];

    /** The program's Secret values (stringData) by logical name. */
    const secret = (logicalName: string): Record<string, string> =>
        resourceNamed(resources, "kubernetes:core/v1:Secret", logicalName).props.stringData;

    /** A fresh container ID for each run (IDs stay unique for the whole suite). */
    const nextId = (what: string) => `${PREFIX}-${what}-${++runs}`;

    /** Runs a container to its end (an init container, a Job's pod, a refused start); returns its code and output. */
    async function runToEnd(
        spec: ContainerSpec,
        timeoutMs = 300_000,
    ): Promise<{ code: number | null; logs: string }> {
        let container: Container;
        try {
            container = await Container.start(spec);
        } catch (error) {
            // A container that ends before runc reports it running: its output is in the error.
            const message = (error as Error).message;
            const code = /exited with (\d+) at start/.exec(message)?.[1];
            if (code === undefined) {
                throw error;
            }
            return { code: Number(code), logs: message };
        }
        stopped.push(container);
        const code = await container.waitForExit(timeoutMs);
        return { code, logs: container.logs };
    }

    /** The server container of the StatefulSet, with env overrides (e.g. a changed password). */
    function serverSpec(env: Record<string, string> = {}): ContainerSpec {
        const spec = containerSpec({
            id: nextId("server"),
            image: image!,
            netns: netns!,
            volumes: volumes!,
            container: "mongodb",
            hostname: "licode-mongodb-0",
        });
        return { ...spec, env: { ...spec.env, ...env } };
    }

    async function startServer(env: Record<string, string> = {}): Promise<Container> {
        const container = await Container.start(serverSpec(env));
        const spec = podContainer(pod, "mongodb");
        await waitForProbe(container, spec, spec.startupProbe, "the startup probe");
        return container;
    }

    /** mongosh in the server's container (the image's own shell), as an operator's `kubectl exec` runs it. */
    function mongosh(url: string, script: string) {
        return server!.exec(["mongosh", url, "--quiet", "--eval", script], { timeoutMs: 120_000 });
    }

    before(async function () {
        this.timeout(3_600_000);
        await requireRunc();
        const built = await buildImage(path.join(ROOT, "tools/images/mongodb/build.sh"));
        assert.strictEqual(built.ref, LOCAL_IMAGES.mongoStandIn.ref);
        workDir = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}-`));
        image = await unpackImage(built.archive, path.join(workDir, "image"));
        resources = await stackResources("local");
        pod = resourceNamed(resources, "kubernetes:apps/v1:StatefulSet", "mongodb").props.spec
            .template.spec;
        job = resourceNamed(resources, "kubernetes:batch/v1:Job", "superservice").props.spec
            .template.spec;
        netns = await NetNs.create(PREFIX);
        // The local stack's claim is a hostPath PV (DirectoryOrCreate): the kubelet creates it root:root 0755.
        dataDir = path.join(workDir, "hostpath-data");
        fs.mkdirSync(dataDir, { mode: 0o755 });
        volumes = new PodVolumes(resources, pod, path.join(workDir, "volumes"), {
            [DATA_CLAIM]: dataDir,
        });
    });

    after(async function () {
        for (const c of [...stopped, ...(server === undefined ? [] : [server])]) {
            await c.stop();
        }
        await netns?.destroy();
        if (workDir !== "") {
            fs.rmSync(workDir, { recursive: true, force: true });
        }
    });

    it("hands the root-owned hostPath data directory to 999 with the data-owner init container", async () => {
        assert.strictEqual(fs.statSync(dataDir).uid, 0);
        const init = await runToEnd(
            containerSpec({
                id: nextId("data-owner"),
                image: image!,
                netns: netns!,
                volumes: volumes!,
                container: "data-owner",
            }),
        );
        assert.strictEqual(init.code, 0, init.logs);
        const stat = fs.statSync(dataDir);
        assert.deepStrictEqual([stat.uid, stat.gid], [MONGO.uid, MONGO.uid]);
    });

    it("starts from the StatefulSet's args and passes its startup, readiness and liveness probes (OP_MSG ping)", async () => {
        server = await startServer();
        const spec = podContainer(pod, "mongodb");
        assert.deepStrictEqual(spec.args.slice(0, 1), ["--wiredTigerCacheSizeGB"]);
        for (const probe of ["readinessProbe", "livenessProbe"]) {
            const outcome = await probeOnce(server, spec, spec[probe]);
            assert.ok(outcome.passed, `${probe}: ${outcome.detail}`);
        }
        assert.match(
            server.logs,
            /mongo-standin: FerretDB \(not mongod\) on \*:27017, data in \/data\/db, authentication on/,
        );
        assert.match(server.logs, /--wiredTigerCacheSizeGB 0\.25 has no effect/);
    });

    it("runs FerretDB as PID 1 under UID/GID 999, no capabilities, no_new_privs, a read-only root, HOME from the pod", async () => {
        const status = await server!.exec([
            "bash",
            "-c",
            'cat /proc/1/status /proc/1/comm; echo "HOME=$HOME"; id -un',
        ]);
        assert.strictEqual(status.code, 0, status.stderr);
        assert.match(status.stdout, /^Uid:\s+999\s+999\s+999\s+999$/m);
        assert.match(status.stdout, /^Gid:\s+999\s+999\s+999\s+999$/m);
        assert.match(status.stdout, /^CapEff:\s+0+$/m);
        assert.match(status.stdout, /^NoNewPrivs:\s+1$/m);
        assert.match(status.stdout, /^ferretdb$/m);
        assert.match(
            status.stdout,
            /^HOME=\/tmp$/m,
            "the pod sets HOME=/tmp over the image's /data/db",
        );
        assert.match(status.stdout, /^mongodb$/m);
        const write = await server!.exec(["touch", "/usr/local/bin/written-by-test"]);
        assert.match(write.stderr, /Read-only file system/);
        const data = await server!.exec(["ls", MONGO.dataDir]);
        assert.match(
            data.stdout,
            /admin\.sqlite/,
            "FerretDB keeps its databases in the data directory",
        );
    });

    it("creates the root user from MONGO_INITDB_ROOT_*, and refuses wrong credentials and anonymous commands", async () => {
        const root = secret("mongodb-credentials");
        const url = (password: string) =>
            `mongodb://${encodeURIComponent(root.username)}:${encodeURIComponent(password)}@127.0.0.1:27017/nuvedb?authSource=admin`;
        const ok = await mongosh(
            url(root.password),
            "JSON.stringify(db.runCommand({ connectionStatus: 1 }).authInfo.authenticatedUsers)",
        );
        assert.strictEqual(ok.code, 0, ok.stderr);
        assert.deepStrictEqual(JSON.parse(ok.stdout.trim()), [
            { user: root.username, db: "admin" },
        ]);
        const wrong = await mongosh(url(`${root.password}-wrong`), "db.adminCommand('ping').ok");
        assert.notStrictEqual(wrong.code, 0);
        assert.match(wrong.stdout + wrong.stderr, /Authentication failed/);
        const anonymous = await mongosh(
            "mongodb://127.0.0.1:27017/nuvedb",
            "db.services.find().toArray()",
        );
        assert.notStrictEqual(anonymous.code, 0);
        assert.match(anonymous.stdout + anonymous.stderr, /requires authentication/);
    });

    it("runs the superservice bootstrap Job's container unchanged, and its upsert is idempotent", async () => {
        const values = secret("superservice");
        // The Job reaches MongoDB by its Service name; here the server shares the Job's network namespace.
        const host = new URL(values.mongoUrl).hostname;
        const runJob = () =>
            runToEnd({
                ...containerSpec({
                    id: nextId("bootstrap"),
                    image: image!,
                    netns: netns!,
                    volumes: new PodVolumes(resources, job, path.join(workDir, `job-${runs}`)),
                    container: "bootstrap",
                }),
                hosts: { [host]: "127.0.0.1" },
            });
        assert.deepStrictEqual(podContainer(job, "bootstrap").command, [
            "/bin/bash",
            "-c",
            BOOTSTRAP_SCRIPT,
        ]);
        const first = await runJob();
        assert.strictEqual(first.code, 0, first.logs);
        assert.match(first.logs, /^superservice created$/m);
        const second = await runJob();
        assert.strictEqual(second.code, 0, second.logs);
        assert.match(second.logs, /^superservice up to date$/m);

        const root = secret("mongodb-credentials");
        const documents = await mongosh(
            `mongodb://${encodeURIComponent(root.username)}:${encodeURIComponent(root.password)}@127.0.0.1:27017/nuvedb?authSource=admin`,
            "EJSON.stringify(db.services.find().toArray())",
        );
        assert.strictEqual(documents.code, 0, documents.stderr);
        // What Nuve needs (scripts/installNuve.sh 28-35): rooms: [] too, which createRoom pushes to (roomsResource.js 74).
        assert.deepStrictEqual(JSON.parse(documents.stdout.trim()), [
            { _id: { $oid: values.id }, name: "superService", key: values.key, rooms: [] },
        ]);
    });

    it("serves Nuve's driver (mongodb 3.6.7): connect, authenticate, and Nuve's reads and writes", async () => {
        const { MongoClient, ObjectId } = await nuveMongoDriver();
        const port = await netns!.forward(MONGO.port);
        const root = secret("mongodb-credentials");
        const values = secret("superservice");
        const url = (password: string) =>
            `mongodb://${encodeURIComponent(root.username)}:${encodeURIComponent(password)}@127.0.0.1:${port}/nuvedb?authSource=admin`;
        // As nuve/nuveAPI/mdb/dataBase.js 40-50 connects.
        const client = new MongoClient(url(root.password), {
            useUnifiedTopology: true,
            serverSelectionTimeoutMS: 30_000,
        });
        await client.connect();
        try {
            const db = client.db("nuvedb");
            const serviceId = new ObjectId(values.id);
            // Each call as Nuve v10 makes it (nuve/nuveAPI/mdb/*.js, lines named).
            const service = await db.collection("services").findOne({ _id: serviceId }); // serviceRegistry.js 23
            assert.strictEqual(service.key, values.key);
            const room: Record<string, unknown> = { name: "lkimg-room" };
            await db.collection("rooms").insertOne(room); // roomRegistry.js 49 (the driver sets room._id)
            // Once per new room (roomsResource.js 73-75). A second $addToSet of the same room would add it again on
            // the stand-in, which stores an embedded _id first and compares field order (README.md "Local images").
            await db
                .collection("services")
                .updateOne({ _id: serviceId }, { $addToSet: { rooms: room } }); // serviceRegistry.js 73
            let stored = await db.collection("services").findOne({ _id: serviceId });
            assert.deepStrictEqual(
                stored.rooms.map((r: { name: string }) => r.name),
                ["lkimg-room"],
            );
            await db
                .collection("rooms")
                .updateOne({ _id: room._id }, { $set: { ...room, erizoControllerId: "ec" } }); // roomRegistry.js 88
            assert.strictEqual(
                (await db.collection("rooms").findOne({ _id: room._id })).erizoControllerId,
                "ec",
            ); // roomRegistry.js 22

            const controller: Record<string, unknown> = {
                ip: "10.0.0.1",
                state: 2,
                keepAlive: 0,
                hostname: "",
                port: 8080,
                ssl: false,
            };
            await db.collection("erizoControllers").insertOne(controller); // erizoControllerRegistry.js 48
            await db
                .collection("erizoControllers")
                .updateOne({ _id: controller._id }, { $inc: { keepAlive: 1 } }); // 65
            const controllers = await db.collection("erizoControllers").find({}).toArray(); // 11
            assert.deepStrictEqual(
                controllers.map((c: { keepAlive: number }) => c.keepAlive),
                [1],
            );

            const token: Record<string, unknown> = {
                host: "h",
                userName: "u",
                room: String(room._id),
                role: "presenter",
                service: values.id,
                creationDate: new Date(),
            };
            await db.collection("tokens").insertOne(token); // tokenRegistry.js 56
            const usedToken: Record<string, unknown> = { ...token, use: 1 };
            delete usedToken._id;
            await db.collection("tokens").insertOne(usedToken);
            const unused = await db
                .collection("tokens")
                .find({ use: { $exists: false } })
                .toArray(); // tokenRegistry.js 97
            assert.deepStrictEqual(
                unused.map((t: { _id: unknown }) => String(t._id)),
                [String(token._id)],
            );

            // Deleting a room: Nuve drops it from the service in JS and replaces the document (serviceRegistry.js 63).
            stored.rooms = stored.rooms.filter(
                (r: { _id: unknown }) => String(r._id) !== String(room._id),
            );
            await db.collection("services").replaceOne({ _id: serviceId }, stored);
            stored = await db.collection("services").findOne({ _id: serviceId });
            assert.deepStrictEqual(stored.rooms, []);
            for (const [collection, id] of [
                ["rooms", room._id],
                ["erizoControllers", controller._id],
                ["tokens", token._id],
            ] as const) {
                const deleted = await db.collection(collection).deleteOne({ _id: id }); // roomRegistry.js 118, ...
                assert.strictEqual(deleted.deletedCount, 1, collection);
            }
            await db.collection("tokens").deleteMany({});
        } finally {
            await client.close();
        }
        const refused = new MongoClient(url(`${root.password}-wrong`), {
            useUnifiedTopology: true,
            serverSelectionTimeoutMS: 30_000,
        });
        await assert.rejects(refused.connect(), /Authentication failed/);
        await refused.close();
    });

    it("stops on SIGTERM within the grace period, and keeps data and root user: MONGO_INITDB_ROOT_* apply on first init only", async () => {
        const graceMs = (pod.terminationGracePeriodSeconds as number) * 1000;
        const code = await server!.stop(graceMs);
        assert.strictEqual(code, 0, server!.logs.slice(-2000));
        server = undefined;
        const root = secret("mongodb-credentials");
        // A changed Secret does not change the stored user, as with mongod (docker-entrypoint.sh 285-299).
        server = await startServer({ [MONGO.env.rootPassword]: "a-password-set-after-init" });
        const asBefore = await mongosh(
            `mongodb://${encodeURIComponent(root.username)}:${encodeURIComponent(root.password)}@127.0.0.1:27017/nuvedb?authSource=admin`,
            "db.services.countDocuments()",
        );
        assert.strictEqual(asBefore.code, 0, asBefore.stderr);
        assert.strictEqual(asBefore.stdout.trim(), "1");
        const changed = await mongosh(
            `mongodb://${encodeURIComponent(root.username)}:a-password-set-after-init@127.0.0.1:27017/nuvedb?authSource=admin`,
            "db.adminCommand('ping').ok",
        );
        assert.notStrictEqual(changed.code, 0);
    });

    it("refuses what it cannot honour: half of the root credentials, a mongod option it has no equivalent for", async () => {
        const scratch = path.join(workDir, "refusals-data");
        fs.mkdirSync(scratch);
        fs.chownSync(scratch, MONGO.uid, MONGO.uid);
        const base = {
            ...serverSpec(),
            mounts: [
                { destination: MONGO.dataDir, source: scratch },
                { destination: "/tmp", tmpfs: true as const },
            ],
        };
        const half = await runToEnd({
            ...base,
            id: nextId("half"),
            env: { [MONGO.env.rootUser]: "root" },
        });
        assert.strictEqual(half.code, 1, half.logs);
        assert.match(
            half.logs,
            /set both MONGO_INITDB_ROOT_USERNAME and MONGO_INITDB_ROOT_PASSWORD/,
        );
        const option = await runToEnd({
            ...base,
            id: nextId("option"),
            args: ["--replSet", "rs0"],
        });
        assert.strictEqual(option.code, 1, option.logs);
        assert.match(
            option.logs,
            /mongod option '--replSet' has no equivalent in the FerretDB stand-in/,
        );
    });
});
