"use strict";
/* global require, process, Buffer, URL, setTimeout */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS script run by plain node */
/**
 * Asks the API server which resources of one group-version it serves, with the credentials the
 * Kubernetes provider would use: stdin `{ group, version, timeoutMs }`, stdout one JSON line,
 *
 *   { status: "served", kinds: [...], server }   GET /apis/<group>/<version> answered 200
 *   { status: "absent", server }                 it answered 404: the group-version is not served
 *   { status: "unknown", reason }                anything else; `reason` is one line, no secrets
 *
 * or whether one object exists: stdin `{ path, timeoutMs }` (e.g. /api/v1/namespaces/x/secrets/y)
 * answers `{ status: "found", server }` (200), `{ status: "absent", server }` (404) or "unknown". It
 * asks for the object's metadata only (PartialObjectMetadata), so a Secret's data never reaches it.
 *
 * It is a separate process because its caller is synchronous and node has no synchronous HTTP
 * client (components/monitoring/api-discovery.ts runs it with spawnSync). The kubeconfig is read
 * as kubectl reads it (client-go's clientcmd): KUBECONFIG, else ~/.kube/config, else in-cluster.
 * Every failure is thrown as an Error whose message is the reason.
 */
const childProcess = require("child_process");
const fs = require("fs");
const http = require("http");
const https = require("https");
const os = require("os");
const path = require("path");

const SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";
const LISTS = { clusters: "cluster", users: "user", contexts: "context" };
/** Values that must never reach stdout; every string of an answer is scrubbed of them. */
const secrets = [];

function parseJson(text) {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/** An "unknown" answer; the reason is kept to one line. */
function unknown(reason) {
    return { status: "unknown", reason: reason.split("\n")[0] };
}

function answer(result) {
    const scrub = (value) =>
        secrets.reduce((text, secret) => text.split(secret).join("<redacted>"), value);
    const text = JSON.stringify(result, (_, v) => (typeof v === "string" ? scrub(v) : v));
    // A synchronous write, so that process.exit cannot cut the answer short.
    fs.writeSync(1, `${text}\n`);
    process.exit(0);
}

/** One kubeconfig file, its relative paths resolved against its own directory (as clientcmd does). */
function loadKubeconfigFile(file) {
    let doc;
    try {
        doc = require("yaml").parse(fs.readFileSync(file, "utf8")) ?? {};
    } catch (err) {
        // The first line only (the rest quotes the file, which may hold a token).
        const reason = err.message.split("\n")[0];
        throw new Error(`cannot parse kubeconfig ${file}: ${reason}`, { cause: err });
    }
    const resolve = (p) => (p && !path.isAbsolute(p) ? path.resolve(path.dirname(file), p) : p);
    for (const { cluster } of doc.clusters ?? []) {
        if (cluster) {
            cluster["certificate-authority"] = resolve(cluster["certificate-authority"]);
        }
    }
    for (const { user } of doc.users ?? []) {
        for (const key of ["client-certificate", "client-key", "tokenFile"]) {
            if (user?.[key]) {
                user[key] = resolve(user[key]);
            }
        }
        // A bare command name is looked up on PATH; only one with a slash is a file path.
        if (user?.exec?.command?.includes("/")) {
            user.exec.command = resolve(user.exec.command);
        }
    }
    return doc;
}

/**
 * The merged kubeconfig, or undefined when there is none. As kubectl merges KUBECONFIG's list:
 * missing files are skipped, the first file to name a cluster, user or context wins, and
 * current-context comes from the first file that sets it.
 */
function loadKubeconfig(env) {
    const files = env.KUBECONFIG
        ? env.KUBECONFIG.split(path.delimiter).filter((f) => f !== "")
        : [path.join(env.HOME ?? os.homedir(), ".kube", "config")];
    const merged = { clusters: new Map(), users: new Map(), contexts: new Map() };
    const existing = [...new Set(files)].filter((f) => fs.existsSync(f));
    for (const doc of existing.map(loadKubeconfigFile)) {
        merged.currentContext = merged.currentContext || doc["current-context"];
        for (const [list, item] of Object.entries(LISTS)) {
            for (const entry of doc[list] ?? []) {
                if (entry?.name !== undefined && !merged[list].has(entry.name)) {
                    merged[list].set(entry.name, entry[item] ?? {});
                }
            }
        }
    }
    const empty = merged.contexts.size === 0 && !merged.currentContext;
    return existing.length === 0 || empty ? undefined : merged;
}

/** Runs an exec credential plugin as client-go does and returns its ExecCredential's status. */
function runExecPlugin(exec, timeoutMs) {
    const apiVersion = exec.apiVersion ?? "client.authentication.k8s.io/v1";
    const name = `exec plugin ${path.basename(String(exec.command))}`;
    if (exec.interactiveMode === "Always") {
        throw new Error(`${name} needs a terminal (interactiveMode: Always)`);
    }
    const env = { ...process.env };
    for (const { name: key, value } of exec.env ?? []) {
        env[key] = value;
    }
    // No spec.cluster: discovery does not implement provideClusterInfo.
    const spec = { interactive: false };
    env.KUBERNETES_EXEC_INFO = JSON.stringify({ apiVersion, kind: "ExecCredential", spec });
    // Only the credential is read: its stderr may say anything, so it stays out of the reason.
    const run = childProcess.spawnSync(exec.command, (exec.args ?? []).map(String), {
        env,
        stdio: ["ignore", "pipe", "pipe"],
        timeout: Math.max(timeoutMs, 1),
    });
    if (run.error || run.status !== 0) {
        const why = run.error?.code ?? `exit ${run.status ?? run.signal}`;
        throw new Error(`${name} failed (${why})`);
    }
    const credential = parseJson(run.stdout.toString("utf8"));
    if (credential?.kind !== "ExecCredential" || credential.apiVersion !== apiVersion) {
        throw new Error(`${name} printed no ExecCredential of ${apiVersion}`);
    }
    const status = credential.status ?? {};
    if (!status.token && !(status.clientCertificateData && status.clientKeyData)) {
        throw new Error(`${name} returned neither a token nor a client certificate`);
    }
    return status;
}

/** The pod's service account, for a program run inside the cluster. */
function inCluster(env) {
    const host = env.KUBERNETES_SERVICE_HOST;
    if (!host || !env.KUBERNETES_SERVICE_PORT) {
        const where = env.KUBECONFIG ? "no file in KUBECONFIG" : "no ~/.kube/config";
        throw new Error(`no kubeconfig (${where}) and not running in a cluster`);
    }
    const token = fs.readFileSync(`${SERVICE_ACCOUNT}/token`, "utf8").trim();
    secrets.push(token);
    return {
        server: `https://${host.includes(":") ? `[${host}]` : host}:${env.KUBERNETES_SERVICE_PORT}`,
        tls: { ca: fs.readFileSync(`${SERVICE_ACCOUNT}/ca.crt`) },
        headers: { Authorization: `Bearer ${token}` },
    };
}

/** Server, TLS options and headers: the current context's, or the pod's service account's. */
function connection(env, deadline) {
    const config = loadKubeconfig(env);
    if (config === undefined) {
        return inCluster(env);
    }
    const context = config.contexts.get(config.currentContext);
    if (!context) {
        throw new Error(
            `current-context "${config.currentContext ?? ""}" is not in the kubeconfig`,
        );
    }
    const cluster = config.clusters.get(context.cluster);
    if (!cluster?.server) {
        throw new Error(
            `context ${config.currentContext}: cluster "${context.cluster}" has no server`,
        );
    }
    const user = config.users.get(context.user) ?? {};
    const unsupported = cluster["proxy-url"]
        ? "proxy-url"
        : user["auth-provider"] && `auth-provider ${user["auth-provider"].name ?? ""}`;
    if (unsupported) {
        throw new Error(
            `context ${config.currentContext} uses ${unsupported}, which discovery does not support`,
        );
    }
    const bytes = (data, file) =>
        data ? Buffer.from(data, "base64") : file ? fs.readFileSync(file) : undefined;
    const ca = bytes(cluster["certificate-authority-data"], cluster["certificate-authority"]);
    const insecure = cluster["insecure-skip-tls-verify"] === true;
    const tls = {
        // As client-go: verify unless told not to; a CA given replaces the system's roots.
        rejectUnauthorized: !insecure,
        ca: insecure ? undefined : ca,
        servername: cluster["tls-server-name"] || undefined,
        cert: bytes(user["client-certificate-data"], user["client-certificate"]),
        key: bytes(user["client-key-data"], user["client-key"]),
    };
    // As client-go: a token file takes precedence over an inline token.
    let token = user.tokenFile ? fs.readFileSync(user.tokenFile, "utf8").trim() : user.token;
    if (user.exec) {
        const status = runExecPlugin(user.exec, deadline - Date.now());
        token = status.token ?? token;
        if (status.clientCertificateData && status.clientKeyData) {
            tls.cert = status.clientCertificateData;
            tls.key = status.clientKeyData;
        }
    }
    secrets.push(...[tls.key, token, user.password].filter((s) => s).map(String));
    const headers = {};
    if (token) {
        headers.Authorization = `Bearer ${token}`;
    } else if (user.username !== undefined && user.password !== undefined) {
        headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString("base64")}`;
    }
    return { server: String(cluster.server), tls, headers };
}

/** The reason for an answer other than 200 or 404, from its Status object's message. */
function refusal(statusCode, parsed) {
    // A Status object's message says why (e.g. which user is forbidden); it holds no secret.
    const message = String(parsed?.message ?? "")
        .replace(/\s+/g, " ")
        .slice(0, 200);
    return new Error(`the API server answered ${statusCode}${message ? `: ${message}` : ""}`);
}

/** What an answer to GET /apis/<groupVersion> means; throws for anything but 200 and 404. */
function outcome(statusCode, body, groupVersion, server) {
    if (statusCode === 404) {
        return { status: "absent", server };
    }
    const parsed = parseJson(body);
    if (statusCode !== 200) {
        throw refusal(statusCode, parsed);
    }
    if (parsed === undefined) {
        throw new Error("the API server answered 200 with a body that is not JSON");
    }
    const list = parsed?.kind === "APIResourceList" && parsed.groupVersion === groupVersion;
    if (!list || !Array.isArray(parsed.resources)) {
        throw new Error(`the API server answered 200 but no APIResourceList of ${groupVersion}`);
    }
    const kinds = parsed.resources.map((r) => r?.kind).filter((k) => typeof k === "string");
    return { status: "served", kinds: [...new Set(kinds)].sort(), server };
}

/** What an answer to GET <object path> means; throws for anything but 200 and 404. */
function objectOutcome(statusCode, body, server) {
    if (statusCode === 404) {
        return { status: "absent", server };
    }
    const parsed = parseJson(body);
    if (statusCode !== 200) {
        throw refusal(statusCode, parsed);
    }
    if (typeof parsed?.metadata?.name !== "string") {
        throw new Error("the API server answered 200 with no object");
    }
    return { status: "found", server };
}

/** The request: a group-version's resource list, or one object's metadata. */
function target(request) {
    if (request.path === undefined) {
        const groupVersion = `${request.group}/${request.version}`;
        return {
            path: `/apis/${groupVersion}`,
            accept: "application/json",
            outcome: (statusCode, body, server) => outcome(statusCode, body, groupVersion, server),
        };
    }
    if (!/^\/apis?\/[A-Za-z0-9._/-]+$/.test(String(request.path))) {
        throw new Error(`not an object path of the API: ${String(request.path).slice(0, 100)}`);
    }
    return {
        path: request.path,
        accept: "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1",
        outcome: objectOutcome,
    };
}

function main() {
    const request = JSON.parse(fs.readFileSync(0, "utf8"));
    const timeoutMs = Number(request.timeoutMs ?? 5000);
    const deadline = Date.now() + timeoutMs;
    setTimeout(() => answer(unknown(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const asked = target(request);
    const { server, tls, headers } = connection(process.env, deadline);
    const url = new URL(`${server.replace(/\/+$/, "")}${asked.path}`);
    const options = { ...tls, headers: { ...headers, Accept: asked.accept } };
    const req = (url.protocol === "http:" ? http : https).get(url, options, (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("error", (err) => answer(unknown(`reading ${url.href}: ${err.message}`)));
        res.on("end", () => {
            const body = Buffer.concat(chunks).toString("utf8");
            try {
                answer(asked.outcome(res.statusCode, body, server));
            } catch (err) {
                answer(unknown(err.message));
            }
        });
    });
    req.on("error", (err) => {
        // OpenSSL's message is a dump of its internals; its `reason` is the readable part.
        const why = err.reason ? `TLS error: ${err.reason}` : err.message;
        answer(unknown(`cannot reach ${url.href}: ${why}`));
    });
}

try {
    main();
} catch (err) {
    answer(unknown(String(err.message)));
}
