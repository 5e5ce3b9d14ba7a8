/**
 * What the program relies on in each image it runs, read from the image's upstream sources.
 *
 * kwok, the local control plane, runs no containers, so nothing here is exercised by the
 * end-to-end suite: these facts are the contract between the manifests and the real images.
 * Probes, hooks, mounts, users and environment variables are built from them (probes.ts,
 * hooks.ts and the tiers), never from literals of their own. Each fact names the upstream file
 * and line it comes from; change one only together with its source.
 *
 * Sources: github.com/lynckia/licode at tag v10 (commit f9fca4e0, the `lynckia/licode:v10`
 * image); github.com/docker-library/mongo (7.0/, commit 2c69a57b); github.com/docker-library/rabbitmq
 * (4.3/ubuntu/, commit 9193c1de); the RabbitMQ 4.3 docs (rabbitmq/rabbitmq-website,
 * versioned_docs/version-4.3/, commit 0acf2a42).
 */

/** The Licode v10 image: one image, three tiers, selected by an entrypoint flag. */
export const LICODE = {
    /** Dockerfile 1: `FROM ubuntu:20.04`; bash, coreutils (stat, touch) and getconf are present. */
    base: "ubuntu:20.04",
    /** Dockerfile 24: `COPY . /opt/licode`; every path below lives under it. */
    installDir: "/opt/licode",
    /**
     * initDockerLicode.sh 156-158: at start, copies scripts/licode_default.js to licode_config.js
     * when the latter is missing, then appends per-pod values to it (169, 174-185). The rendered
     * config is mounted as licode_default.js so the entrypoint still has a writable copy to append to.
     */
    defaultConfigFile: "/opt/licode/scripts/licode_default.js",
    /** initDockerLicode.sh 157: the file every tier `require`s (nuve.js 10, erizoController.js 7). */
    configFile: "/opt/licode/licode_config.js",
    /** .nvmrc `12.13.0`, installed by scripts/installUbuntuDeps.sh 69-88 under build/libdeps/nvm. */
    nodeVersion: "12.13.0",
    /**
     * The node binary of that version: installUbuntuDeps.sh 9, 13, 71 set NVM_DIR to
     * /opt/licode/build/libdeps/nvm, and 73-79 clone nvm's latest tag and `nvm install` the
     * .nvmrc version, which nvm (nvm.sh 472-503 at v0.39.1, the same layout since v0.23.0) puts
     * in $NVM_DIR/versions/node/v<version>.
     */
    nodeBinary: "/opt/licode/build/libdeps/nvm/versions/node/v12.13.0/bin/node",
    /**
     * Dockerfile 47 and initDockerLicode.sh 1, 114-131, 194: the entrypoint is a bash script that
     * starts node in the background and `wait`s. bash as PID 1 ignores SIGTERM, so the kubelet's
     * SIGTERM never reaches node: hooks must signal node themselves.
     */
    pid1DropsSigterm: true,
    /**
     * Dockerfile has no USER and installs everything root-owned; at start the entrypoint writes
     * /opt/licode/licode_config.js and rtp_media_config.js (initDockerLicode.sh 156-162) and
     * appends to ~/.bashrc (9). So it runs as root on a writable root filesystem.
     */
    runsAsRoot: true,
    writesRootFilesystem: true,
    /** Where the EC reads its TLS key and certificate by default (erizoController.js 24-27, relative to its cwd). */
    certDir: "/opt/licode/cert",
    /** initDockerLicode.sh 24-49: with any of these flags, the in-image MongoDB and RabbitMQ stay off. */
    flags: {
        nuve: "--nuve",
        erizoController: "--erizoController",
        erizoAgent: "--erizoAgent",
    },
    /** Script names as they appear in /proc/<pid>/cmdline, to find the processes. */
    processes: {
        /** initDockerLicode.sh 114: `node nuve.js &`. */
        nuve: "nuve.js",
        /** initDockerLicode.sh 122: `node erizoController.js &`. */
        erizoController: "erizoController.js",
        /** initDockerLicode.sh 128-130: `node erizoAgent.js &`. */
        erizoAgent: "erizoAgent.js",
        /** erizoAgent.js 137, 155 and launch.sh 3: `./launch.sh ./../erizoJS/erizoJS.js <id> ...`, then `exec node`. */
        erizoJS: "erizoJS.js",
    },
    /** Environment variables the entrypoint appends to the config (initDockerLicode.sh 169-185). */
    env: {
        /** 169: always written into `config.erizoController.publicIP` (empty when unset); 174-176 `config.erizoAgent.publicIP` when set. */
        publicIp: "PUBLIC_IP",
        /** 177-179: `config.erizo.minport`. */
        minPort: "MIN_PORT",
        /** 180-182: `config.erizo.maxport`. */
        maxPort: "MAX_PORT",
        /** 183-185: `config.erizo.networkinterface`. */
        networkInterface: "NETWORK_INTERFACE",
    },
    nuve: {
        /** nuve.js 84-86: `config.nuve.port || 3000`. */
        port: 3000,
        /**
         * nuve.js 48-50: `app.options('*', ...)` answers 200 before authentication and without
         * the database, and logs nothing. Not `GET /test` (44-46): it renders with the `ejs` view
         * engine (31), which no package.json of v10 installs, so it answers 500. Not `GET /`:
         * MAuth answers 401 (nuveAuthenticator.js 99-101), which an httpGet probe counts as a
         * failure, and logs each refusal.
         */
        health: { method: "OPTIONS", path: "/", status: 200 },
        /** nuve.js has no signal handler: node's default SIGTERM action ends it at once. */
        drainsOnSigterm: false,
    },
    erizoController: {
        /**
         * erizoController.js 137-158: binds `listen_port` (http, or https with `listen_ssl`
         * reading `ssl_key`/`ssl_cert`, 24-28) at module load, before RabbitMQ and Nuve
         * registration; it exits when five registrations fail (233-240, 273).
         */
        listensAtLoad: true,
        /** erizoController.js 24-27: key and certificate paths, relative to its working directory by default. */
        tlsKeys: { key: "ssl_key", cert: "ssl_cert" },
        /** No signal handler in erizo_controller/erizoController: node dies at SIGTERM and every socket drops. */
        drainsOnSigterm: false,
        /** models/Client.js 542-545: recordings go to `recording_path + id + ".mkv"`, or /tmp when unset. */
        recordingPathKey: "recording_path",
        /**
         * models/Channel.js 32, 50-65: a client whose socket drops without saying goodbye keeps its
         * seat for 30 s to reconnect; only then does it leave its room and its ErizoJS sessions.
         */
        reconnectionSeconds: 30,
        /** erizoClient/src/Socket.js 66-80: each client holds one WebSocket (`forceNew`, websocket only). */
        oneConnectionPerClient: true,
    },
    /**
     * ROV, Licode's Prometheus exporter (erizo_controller/ROV/), which the entrypoint never starts:
     * the tier runs its script with the image's node.
     */
    rov: {
        /** rovMetricsServer.js 15 `require('../../licode_config')` and rovMetricsGatherer.js 109 `'../../RELEASE'` (Dockerfile 41-42): both relative to this working directory. */
        workingDir: "/opt/licode/erizo_controller/ROV",
        script: "rovMetricsServer.js",
        /** scripts/licode_default.js 203-209: `config.rov` is not in the rendered config unless written there. */
        defaults: { statsPeriodMs: 20000, serverPort: 3005, statsPrefix: "licode_" },
        /**
         * rovMetricsServer.js 64-86: Express listens on `config.rov.serverPort` only once the AMQP
         * connection is up, and answers `GET /metrics` with prom-client's registry; so an HTTP
         * answer there means ROV reached RabbitMQ.
         */
        metricsPath: "/metrics",
        listensAfterAmqpConnect: true,
        /**
         * rovMetricsServer.js has no signal handler: node's default SIGTERM action ends it, but
         * not as PID 1, where the kernel drops signals a process does not handle.
         */
        needsSignalForwarding: true,
        /** rovClient.js 13-30, 43-61: every question goes over AMQP RPC (to Nuve, the controllers, the agents and ErizoJS); ROV opens no other connection. */
        talksOnlyAmqp: true,
    },
    erizoAgent: {
        /**
         * erizoAgent.js 208-219, 296-297: SIGTERM and SIGINT SIGKILL every ErizoJS and exit, so
         * every call on the node ends at once.
         */
        killsWorkersOnSigterm: true,
        /**
         * erizoAgent.js 167-189 and erizoList.js 85-98, 144-149: a worker that exits is replaced at
         * once, until `prerunProcesses` idle workers run; with 0 none is started ahead of a call.
         */
        respawnsWorkers: true,
        /** launch.sh 2: `ulimit -c unlimited` — a crashing ErizoJS may write a core file into its working directory. */
        unlimitedCoreFiles: true,
    },
} as const;

/** The official mongo image (docker-library/mongo, 7.0/). */
export const MONGO = {
    /** 7.0/Dockerfile 7: `FROM ubuntu:jammy`; bash and coreutils (dd, od, timeout) are present. */
    base: "ubuntu:jammy",
    /** 7.0/Dockerfile 11-12: `groupadd --gid 999 mongodb`, `useradd --uid 999 ... --home-dir /data/db`. */
    uid: 999,
    /** 7.0/Dockerfile 111: `VOLUME /data/db /data/configdb`. */
    dataDir: "/data/db",
    configDbDir: "/data/configdb",
    /** 7.0/Dockerfile 120: `EXPOSE 27017`. */
    port: 27017,
    /**
     * 7.0/Dockerfile 113-115: `ENV HOME /data/db`, so mongosh writes `$HOME/.mongodb` into the
     * data directory (onto NFS in prod) on every run unless HOME points elsewhere.
     */
    home: "/data/db",
    /**
     * docker-entrypoint.sh 12-22: ownership of /data/db is fixed (`find ... -exec chown`) only
     * when the container starts as root; as UID 999 a root-owned volume stays unwritable.
     */
    chownsOnlyAsRoot: true,
    /** docker-entrypoint.sh: `MONGO_INITDB_ROOT_USERNAME`/`_PASSWORD` create the root user on first init only. */
    env: { rootUser: "MONGO_INITDB_ROOT_USERNAME", rootPassword: "MONGO_INITDB_ROOT_PASSWORD" },
} as const;

/** The official rabbitmq image (docker-library/rabbitmq, 4.3/ubuntu/ and its management/ variant). */
export const RABBITMQ = {
    /** 4.3/ubuntu/Dockerfile 228-229: `groupadd --gid 999`, `useradd --uid 999 ... rabbitmq`; no USER line. */
    uid: 999,
    /** Dockerfile 209, 308, 310: data directory, HOME (the Erlang cookie lives there) and VOLUME. */
    dataDir: "/var/lib/rabbitmq",
    /**
     * Dockerfile 230: created for logs. The image logs to the console only (10-defaults.conf 12,
     * `log.console = true`); the directory receives erl_crash.dump when the VM crashes.
     */
    logDir: "/var/log/rabbitmq",
    /**
     * Dockerfile 321: the image's own settings are 10-defaults.conf in this directory; every
     * `*.conf` here is read in name order (configure.md 421-427), so a file of ours mounted
     * beside it with subPath keeps them. Nothing at boot writes under /etc/rabbitmq unless
     * RABBITMQ_ENABLED_PLUGINS is set, which the program never does.
     */
    confDir: "/etc/rabbitmq/conf.d",
    /** Dockerfile 325: AMQP. */
    amqpPort: 5672,
    /** management/Dockerfile 14, 41: the management plugin is enabled and serves HTTP on 15672. */
    managementPort: 15672,
    /** Dockerfile 302, 325: rabbitmq_prometheus is enabled, on 15692. */
    prometheusPort: 15692,
    /**
     * monitoring/index.md 779-780: "a TCP port check on the AMQP port as the readinessProbe" is
     * the recommended readiness; 775-777: each CLI call joins the Erlang distribution, so a CLI
     * check belongs in a sparse interval (292-293: 30-60 s); 584-596: `ping` is stage 1, the
     * most basic check that the runtime runs.
     */
    livenessCommand: ["rabbitmq-diagnostics", "-q", "ping"],
    /**
     * memory.md 65-67: a node "won't always be able to detect the effective cgroups limit"
     * (rabbitmq-server issue 10974); configure.md 858-866 and memory.md 239-241:
     * `total_memory_available_override_value` sets the memory the watermark is computed from.
     */
    memoryOverrideKey: "total_memory_available_override_value",
    /**
     * queues.md 281-296: transient non-exclusive classic queues cannot be declared by default
     * from 4.3.0 on. Licode declares every queue that way (erizo_controller/common/amqper.js
     * 55, 110: node-amqp's defaults, non-durable and non-exclusive), so the broker must permit them.
     */
    permitTransientQueuesKey: "deprecated_features.permit.transient_nonexcl_queues",
    /** configure.md 2526-2556: the server reads `RABBITMQ_DEFAULT_USER`/`_PASS` and creates that user on a blank node. */
    env: { defaultUser: "RABBITMQ_DEFAULT_USER", defaultPass: "RABBITMQ_DEFAULT_PASS" },
} as const;
