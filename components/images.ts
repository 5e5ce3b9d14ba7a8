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
     * initDockerLicode.sh 194: PID 1's `wait` returns once node exits, and the script ends there;
     * the container ends with it, and every process in it is killed, a preStop hook that is still
     * running included. So a hook hands node's stop to a background shell and returns first.
     */
    pid1ExitsWithNode: true,
    /**
     * erizo_controller/package-lock.json 21-24: node-amqp 0.2.7, in
     * erizo_controller/node_modules/amqp, the AMQP client every tier's amqper.js uses; the drain
     * helpers speak to the broker with it.
     */
    amqpClient: { dir: "erizo_controller/node_modules/amqp", version: "0.2.7" },
    /**
     * erizoController/rpc/rpcPublic.js 37-42 and erizoAgent.js 244-246 answer `rovMessage`
     * (common/ROV/rovReplManager.js 16-79): a Node.js REPL per session, whose lines run in the
     * component with `require` and `process` (Node's REPL context), and whose printed output is
     * the answer (common/ROV/rpcDuplexStream.js 13-40). The drains ask a component in it which
     * kernel, PID namespace and PID it runs as.
     */
    rovRunsLines: true,
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

/**
 * The coturn project's image, `coturn/coturn` (github.com/coturn/coturn at tag docker/4.17.0-r0,
 * commit 28e7f6af, which builds coturn 4.17.0, commit 54ef76ce: the CI workflow
 * .github/workflows/docker.yml 44-52 turns the tag into the git ref). Files below are
 * docker/coturn/debian/Dockerfile ("Dockerfile"), docker/coturn/rootfs/usr/local/bin/
 * docker-entrypoint.sh ("entrypoint") and coturn's own sources at 4.17.0.
 */
export const COTURN = {
    /** Dockerfile 5, 99: `FROM debian:trixie-slim`; /bin/sh (dash) and bash are present. */
    base: "debian:trixie-slim",
    /** Dockerfile 62 `./configure --prefix=/usr`; Makefile.in 148-154 installs turnserver and turnutils_* into it. */
    binary: "/usr/bin/turnserver",
    /** Makefile.in 152: the STUN client the probes run. */
    stunClient: "/usr/bin/turnutils_stunclient",
    /** Dockerfile 137: `USER nobody:nogroup`; Debian's nobody is 65534. */
    user: { name: "nobody", group: "nogroup", uid: 65534 },
    /**
     * Dockerfile 63, 89, 141: the database directory, owned by nobody and a VOLUME; coturn creates
     * an SQLite file there at start even when every user is in the config (userdb option).
     */
    dataDir: "/var/lib/coturn",
    /** Dockerfile 81: the default config file is removed; the program always passes `-c`. */
    shipsNoConfig: true,
    /**
     * Dockerfile 126-135: `setcap CAP_NET_BIND_SERVICE=+ep /usr/bin/turnserver` lets nobody bind
     * 443. A file capability is not granted under no_new_privs (allowPrivilegeEscalation: false), so
     * the program binds 443 either as root that drops to nobody after binding (mainrelay.c 3938,
     * `drop_privileges` with proc-user/proc-group, 3321-3350), or in its own network namespace
     * where net.ipv4.ip_unprivileged_port_start allows it.
     */
    fileCapabilityNetBindService: true,
    /** Dockerfile 139: `EXPOSE 3478 3478/udp 5349 5349/udp`; the program listens on 3478 and 443. */
    exposedPorts: [3478, 5349],
    /**
     * Dockerfile 143, entrypoint 3-14: the entrypoint prepends `turnserver` to arguments starting
     * with "-" and runs every argument through `eval "echo $i"` (8-12), so `$(...)` in an argument
     * is executed. The program sets `command` and never goes through it.
     */
    entrypointEvalsArguments: true,
    /**
     * mainrelay.c 3930-3935: SIGTERM and SIGINT end turnserver (shutdown_handler, 4509), SIGUSR1
     * enters drain mode (drain_handler, 4517; coturn 4.17 only); 3927: SIGUSR2 reloads the TLS
     * certificates (reload_ssl_certs, 4497). turnserver is PID 1 when run as the command. Debian's
     * coturn 4.6.1 (the local image) handles only SIGUSR2 (mainrelay.c 2616 at 4.6.1): as PID 1 it
     * ignores SIGTERM and ends at the grace period's SIGKILL (test/turn/image.spec.ts).
     */
    signals: { stop: "SIGTERM", drain: "SIGUSR1", reloadCertificates: "SIGUSR2" },
    /**
     * The Prometheus endpoint: built when libmicrohttpd is present (configure 848-882; Dockerfile
     * 30 installs libmicrohttpd-dev), off unless `prometheus` is set (mainrelay.c 219), on port 9641
     * (prom_server.h 46), path /metrics (mainrelay.c 222); `GET /` answers 200 "ok" as a health
     * check (prom_server.c 139-143). Debian's coturn 4.6.1 has no endpoint (`turnserver -h` lists
     * no prometheus option).
     */
    prometheus: { port: 9641, path: "/metrics", healthPath: "/" },
    /**
     * prom_server.c at 4.17.0: `turn_total_allocations` (gauge, label `type`, 270-272; raised and
     * lowered per allocation, 427-438) and `turn_unauthenticated_401_responses` (counter of 401
     * challenges to UDP requests, 211-212). coturn counts no failed allocation as such.
     */
    metrics: {
        allocations: "turn_total_allocations",
        unauthorizedResponses: "turn_unauthenticated_401_responses",
        receivedBytes: "turn_total_traffic_rcvb",
        sentBytes: "turn_total_traffic_sentb",
        peerReceivedBytes: "turn_total_traffic_peer_rcvb",
        peerSentBytes: "turn_total_traffic_peer_sentb",
    },
    /**
     * examples/etc/turnserver.conf 774-784 (4.17.0): loopback peers are refused unless
     * allow-loopback-peers is set ("the no-loopback-peers option is replaced by
     * allow-loopback-peers"; mainrelay.c 168 defaults it to false).
     */
    refusesLoopbackPeersByDefault: true,
    /**
     * userdb.c 732-778: a `user=name:password` line splits at the first ":", and a password that
     * starts with "0x" is read as a hex key, not a password.
     */
    userLine: { separator: ":", keyPrefix: "0x" },
} as const;

/**
 * Images built on this machine for the local node (tools/images/; README.md "Local images"), which
 * stand where the official images above stand in the local stack. They are not the official images:
 * each entry names what it keeps of the contract above and what it leaves untested.
 */
export const LOCAL_IMAGES = {
    /**
     * RabbitMQ 4.0.5 and Erlang/OTP 27 from Debian trixie's packages, laid out like RABBITMQ above
     * (tools/images/rabbitmq/rootfs.sh cites each line of 4.3/ubuntu/Dockerfile it follows). Differs
     * from rabbitmq:4.3 in version (4.3/ubuntu/Dockerfile 236), Erlang and OpenSSL builds (35, 40),
     * base (199) and install path (239-242). 4.0.5 permits transient non-exclusive queues by default,
     * so the image accepts RABBITMQ.permitTransientQueuesKey without needing it.
     */
    rabbitmq: { ref: "localhost/rabbitmq:4.0.5-management", standIn: false },
    /**
     * A STAND-IN for MONGO above: FerretDB 1.24.2 (SQLite backend), not mongod, behind an entrypoint
     * that keeps MONGO.uid, MONGO.dataDir, MONGO.configDbDir, MONGO.port, MONGO.home and MONGO.env
     * (7.0/docker-entrypoint.sh 4-6, 12-23, 71-87, 258-299, 371-380, 403-420), with mongosh from npm.
     */
    mongoStandIn: {
        ref: "localhost/mongo-standin:ferretdb-1.24.2",
        standIn: true,
        /** The parts of the mongo image's contract the stand-in does not exercise, with their sources. */
        untested: [
            "mongod's WiredTiger storage, journal and crash recovery, and --wiredTigerCacheSizeGB (accepted, ignored)",
            "MongoDB's SCRAM and its roles: FerretDB's experimental --test-enable-new-auth authenticates and enforces no role",
            "first-init detection by mongod's files (docker-entrypoint.sh 285-299) and the forked init run (301-401)",
            "/docker-entrypoint-initdb.d scripts and MONGO_INITDB_DATABASE (docker-entrypoint.sh 274-283, 383-393)",
            "--config files, TLS, --keyFile, replica sets, config servers (docker-entrypoint.sh 180-245, 306-325)",
            "the server's behaviour beyond Nuve's calls: FerretDB implements a subset of MongoDB 7.0",
        ],
    },
} as const;

/**
 * The local Licode image, built on this machine from Licode's source (tools/licode/build-tree.sh,
 * tools/images/licode/build.sh; tools/licode/README.md), which stands where LICODE above stands in the
 * local stack. Kept as LICODE records it: installDir, the unmodified entrypoint with its flags and env,
 * nodeVersion and nodeBinary, root on a writable root filesystem, the processes' script names, ROV's
 * working directory, TZ=Europe/Madrid (Dockerfile 8-9) and RELEASE (Dockerfile 39-42). What differs:
 */
export const LOCAL_LICODE = {
    ref: "localhost/licode:v10",
    /**
     * Dockerfile 1 `FROM ubuntu:20.04`: here `mmdebstrap --variant=minbase bookworm` plus tzdata, which
     * carries what the entrypoint, probes and hooks call (bash, coreutils, grep, getconf).
     */
    base: "debian:bookworm minbase",
    /**
     * A STAND-IN for erizoAPI, the native media addon (installErizo.sh -A, erizoAPI/addon.cc 17-28):
     * JavaScript with the same exports where ErizoJS requires the addon (erizoJS.js 93). It negotiates,
     * reports the connection events and stats, and binds one UDP socket per connection in
     * [minport, maxport]; media does not flow (tools/licode/erizo-api-stand-in/README.md lists what
     * that leaves untested).
     */
    erizoApiStandIn: { path: "/opt/licode/erizoAPI/build/Release/addon.js", standIn: true },
    /**
     * A STAND-IN for nvm (installUbuntuDeps.sh 73-79 clone it from GitHub): an nvm.sh whose `nvm use`
     * puts the .nvmrc version's bin directory first on PATH, all initDockerLicode.sh 53-57, 145-146 need.
     */
    nvmStandIn: { path: "/opt/licode/build/libdeps/nvm/nvm.sh", standIn: true },
    /**
     * Not in the image: Erizo's C++ core and its libraries (installErizo.sh -E; Dockerfile 35 `ldconfig
     * /opt/licode/build/libdeps/build/lib`), log4cxx, and MongoDB and RabbitMQ (installUbuntuDeps.sh
     * 97, 105-115), so the entrypoint's --mongodb and --rabbitmq modes (initDockerLicode.sh 64-110) do not
     * work; the program never uses them.
     */
    nativeMedia: false,
    bundlesMongoAndRabbit: false,
    /**
     * The root package's dependencies come from package-lock.json (`npm ci`); the Dockerfile (14, 20)
     * copies only package.json before installUbuntuDeps.sh 89 runs `npm install`, so the real image
     * resolved them from package.json's ranges at its build time.
     */
    rootDependenciesFromLock: true,
    /** RELEASE's second line is the commit's date, not the build's (Dockerfile 42): same inputs, same tree. */
    releaseDateFrom: "commit",
} as const;
