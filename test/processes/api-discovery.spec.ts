/**
 * Discovery of an API group-version against a real TLS server standing in for the API server
 * (test/processes/fixtures/api-server-stand-in.js, a process of its own: discovery blocks this one's
 * event loop), with certificates made by the openssl CLI and kubeconfigs written per case.
 */
import * as assert from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { ApiDiscovery, discoverApiGroup } from "../../components/monitoring/api-discovery";

const GROUP = "monitoring.coreos.com";
const TOKEN = "test-token-7f3a9c1e5b";
const WRONG_TOKEN = "wrong-token-2d8e4f6a0c";
const STAND_IN = path.join(__dirname, "fixtures", "api-server-stand-in.js");

describe("discoverApiGroup", function () {
    let dir: string;
    let pki: string;
    let server: ChildProcess | undefined;
    let ports: { readonly tls: number; readonly mtls: number };
    let closedPort: number;

    before(async function () {
        // The stand-in's certificates come from the openssl CLI (Debian's openssl package).
        assert.strictEqual(
            spawnSync("openssl", ["version"]).status,
            0,
            "the openssl CLI is needed to make the test's certificates: apt-get install openssl",
        );
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-discovery-"));
        pki = path.join(dir, "pki");
        fs.mkdirSync(pki);
        makeCertificates(pki);
        const stdin = JSON.stringify({
            ca: `${pki}/ca.crt`,
            cert: `${pki}/server.crt`,
            key: `${pki}/server.key`,
            token: TOKEN,
        });
        server = spawn(process.execPath, [STAND_IN, stdin], { stdio: ["pipe", "pipe", "inherit"] });
        ports = await firstLine(server);
        closedPort = await freePort();
    });

    after(() => {
        server?.stdin?.end();
        server?.kill();
        if (dir !== undefined) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    /** A kubeconfig of one context, written to `file` (relative to the test's directory). */
    function kubeconfig(
        file: string,
        cluster: Record<string, unknown>,
        user: Record<string, unknown> = {},
    ): string {
        const target = path.join(dir, file);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(
            target,
            YAML.stringify({
                apiVersion: "v1",
                kind: "Config",
                "current-context": "test",
                clusters: [{ name: "test", cluster }],
                users: [{ name: "test", user }],
                contexts: [{ name: "test", context: { cluster: "test", user: "test" } }],
            }),
        );
        return target;
    }

    /** The stand-in's TLS port, answering as `scenario`, with its CA inline. */
    function cluster(scenario: string): Record<string, unknown> {
        return {
            server: `https://127.0.0.1:${ports.tls}/${scenario}`,
            "certificate-authority-data": fs.readFileSync(`${pki}/ca.crt`).toString("base64"),
        };
    }

    /** Discovers monitoring.coreos.com/v1 in a clean environment, checking no secret shows. */
    function discover(kubeconfigPath: string, timeoutMs = 3000): ApiDiscovery {
        const env = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfigPath };
        const result = discoverApiGroup(GROUP, "v1", { env, timeoutMs });
        const shown = JSON.stringify(result.status === "served" ? [...result.kinds] : result);
        for (const secret of [TOKEN, WRONG_TOKEN, fs.readFileSync(`${pki}/client.key`, "utf8")]) {
            assert.ok(!shown.includes(secret), `a secret shows in ${shown}`);
        }
        return result;
    }

    function assertUnknown(result: ApiDiscovery, reason: RegExp): void {
        assert.strictEqual(result.status, "unknown", JSON.stringify(result));
        assert.match(result.status === "unknown" ? result.reason : "", reason);
    }

    it("is served, with its kinds, when the API server lists the group-version", () => {
        const result = discover(kubeconfig("served", cluster("served")));
        assert.strictEqual(result.status, "served", JSON.stringify(result));
        assert.deepStrictEqual([...result.kinds], ["PrometheusRule", "ServiceMonitor"]);
        assert.strictEqual(result.server, `https://127.0.0.1:${ports.tls}/served`);
    });

    it("is absent when the API server answers 404", () => {
        assert.deepStrictEqual(discover(kubeconfig("absent", cluster("absent"))), {
            status: "absent",
            server: `https://127.0.0.1:${ports.tls}/absent`,
        });
    });

    it("is unknown, saying why, when the API server fails or answers nonsense", () => {
        assertUnknown(discover(kubeconfig("error", cluster("error"))), /500: etcdserver/);
        assertUnknown(discover(kubeconfig("malformed", cluster("malformed"))), /not JSON/);
    });

    it("is unknown when nothing listens at the server's address", () => {
        const unreachable = { ...cluster(""), server: `https://127.0.0.1:${closedPort}` };
        assertUnknown(discover(kubeconfig("unreachable", unreachable)), /ECONNREFUSED/);
    });

    it("is unknown without a kubeconfig outside a cluster", () => {
        assertUnknown(
            discover(path.join(dir, "missing")),
            /no kubeconfig .*not running in a cluster/,
        );
    });

    it("sends the user's token, and keeps tokens out of every answer", () => {
        const served = discover(kubeconfig("token", cluster("token"), { token: TOKEN }));
        assert.strictEqual(served.status, "served", JSON.stringify(served));
        // The stand-in echoes a wrong token in its 401 message; the answer must redact it.
        const refused = discover(
            kubeconfig("wrong-token", cluster("token"), { token: WRONG_TOKEN }),
        );
        assertUnknown(refused, /401: Unauthorized: Bearer <redacted>/);
    });

    it("presents a client certificate, with files relative to the kubeconfig's directory", () => {
        const mtls = { server: `https://127.0.0.1:${ports.mtls}/mtls` };
        const files = {
            "certificate-authority": "../pki/ca.crt",
            "client-certificate": "../pki/client.crt",
            "client-key": "../pki/client.key",
        };
        const user = {
            "client-certificate": files["client-certificate"],
            "client-key": files["client-key"],
        };
        const withCert = kubeconfig("nested/with-cert", { ...mtls, ...files }, user);
        assert.strictEqual(discover(withCert).status, "served");
        const withoutCert = kubeconfig("nested/without-cert", { ...mtls, ...files });
        assertUnknown(discover(withoutCert), /TLS error: .*certificate required/);
    });

    it("verifies the server's certificate unless told not to", () => {
        const noCa = { server: `https://127.0.0.1:${ports.tls}/served` };
        assertUnknown(discover(kubeconfig("no-ca", noCa)), /self-signed|unable to verify/);
        const insecure = { ...noCa, "insecure-skip-tls-verify": true };
        assert.strictEqual(discover(kubeconfig("insecure", insecure)).status, "served");
    });

    it("runs an exec plugin, relative to the kubeconfig, and sends the token it prints", () => {
        const plugin = path.join(dir, "plugins", "credential.js");
        fs.mkdirSync(path.dirname(plugin), { recursive: true });
        fs.writeFileSync(
            plugin,
            `#!${process.execPath}
const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO);
if (info.apiVersion !== "client.authentication.k8s.io/v1beta1" || info.spec.interactive !== false) {
    process.exit(3);
}
const status = { token: process.env.PLUGIN_TOKEN };
process.stdout.write(JSON.stringify({ apiVersion: info.apiVersion, kind: "ExecCredential", status }));
`,
            { mode: 0o755 },
        );
        const exec = {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "./plugins/credential.js",
            env: [{ name: "PLUGIN_TOKEN", value: TOKEN }],
            interactiveMode: "Never",
        };
        const result = discover(kubeconfig("exec", cluster("token"), { exec }));
        assert.strictEqual(result.status, "served", JSON.stringify(result));
    });

    it("merges the files of KUBECONFIG as kubectl does: the first to define a name wins", () => {
        const first = path.join(dir, "merge-first");
        const second = path.join(dir, "merge-second");
        const entries = (clusterScenario: string) => ({
            clusters: [{ name: "c", cluster: cluster(clusterScenario) }],
        });
        fs.writeFileSync(first, YAML.stringify({ "current-context": "m", ...entries("token") }));
        fs.writeFileSync(
            second,
            YAML.stringify({
                "current-context": "other",
                ...entries("absent"),
                users: [{ name: "u", user: { token: TOKEN } }],
                contexts: [{ name: "m", context: { cluster: "c", user: "u" } }],
            }),
        );
        const result = discover([first, path.join(dir, "missing"), second].join(":"));
        assert.strictEqual(result.status, "served", JSON.stringify(result));
    });

    it("gives up after timeoutMs when the server never answers", () => {
        const started = Date.now();
        assertUnknown(
            discover(kubeconfig("hang", cluster("hang")), 300),
            /no answer within 300 ms/,
        );
        assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
    });

    it("names an unsupported way to authenticate rather than asking", () => {
        const user = { "auth-provider": { name: "oidc", config: { "id-token": TOKEN } } };
        assertUnknown(
            discover(kubeconfig("oidc", cluster("served"), user)),
            /auth-provider oidc, which discovery does not support/,
        );
    });
});

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all EC P-256, in `dir`. */
function makeCertificates(dir: string): void {
    const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    const signed = [
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
    ];
    const certificates = [
        ["ca", "/CN=api-discovery-test-ca"],
        [
            "server",
            "/CN=127.0.0.1",
            ...signed,
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        ["client", "/CN=tester", ...signed, "-addext", "extendedKeyUsage=clientAuth"],
    ];
    for (const [name, subject, ...extra] of certificates) {
        const args = ["req", "-x509", ...newKey, "-keyout", `${name}.key`, "-out", `${name}.crt`];
        const run = spawnSync("openssl", [...args, "-subj", subject, "-days", "1", ...extra], {
            cwd: dir,
            encoding: "utf8",
        });
        assert.strictEqual(run.status, 0, run.stderr);
    }
}

/** The ports the stand-in prints once it listens. */
function firstLine(child: ChildProcess): Promise<{ tls: number; mtls: number }> {
    return new Promise((resolve, reject) => {
        let text = "";
        child.stdout?.on("data", (chunk: Buffer) => {
            text += chunk.toString("utf8");
            if (text.includes("\n")) {
                resolve(JSON.parse(text.split("\n")[0]));
            }
        });
        child.on("exit", (code) => reject(new Error(`the stand-in exited with ${code}`)));
    });
}

/** A port nothing listens on (it was free a moment ago). */
function freePort(): Promise<number> {
    return new Promise((resolve) => {
        const probe = net.createServer();
        probe.listen(0, "127.0.0.1", () => {
            const { port } = probe.address() as net.AddressInfo;
            probe.close(() => resolve(port));
        });
    });
}
