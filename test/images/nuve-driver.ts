/**
 * Nuve's MongoDB driver, at the versions Licode v10's nuve/package-lock.json pins (mongodb 3.6.7, bson 1.1.6,
 * ...; fixtures/nuve-mongodb/package-lock.json lists the same tree), installed from npm once into
 * ${LICODE_CACHE:-$HOME/.cache/licode-k8s}/test-clients/nuve-mongodb-<hash of the lock>/ and loaded from there,
 * so the image tests talk to a server exactly as Nuve does.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the 3.6 driver ships no types we install */
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runOk } from "./runc";

const FIXTURE = path.join(__dirname, "fixtures", "nuve-mongodb");

/** Installs the driver if the cache lacks it, and returns its module (`MongoClient`, `ObjectId`, ...). */
export async function nuveMongoDriver(): Promise<any> {
    const lock = fs.readFileSync(path.join(FIXTURE, "package-lock.json"));
    const key = createHash("sha256")
        .update(lock)
        .update(fs.readFileSync(path.join(FIXTURE, "package.json")))
        .digest("hex")
        .slice(0, 16);
    const cache = path.join(
        process.env.LICODE_CACHE ?? path.join(os.homedir(), ".cache", "licode-k8s"),
        "test-clients",
    );
    const dir = path.join(cache, `nuve-mongodb-${key}`);
    const entry = path.join(dir, "node_modules", "mongodb");
    if (!fs.existsSync(path.join(entry, "package.json"))) {
        fs.mkdirSync(cache, { recursive: true });
        // Installed beside its final place and renamed into it, so a killed install never looks complete.
        const scratch = fs.mkdtempSync(path.join(cache, ".tmp-nuve-mongodb-"));
        try {
            for (const file of ["package.json", "package-lock.json"]) {
                fs.copyFileSync(path.join(FIXTURE, file), path.join(scratch, file));
            }
            await runOk(
                "npm",
                [
                    "install",
                    "--no-save",
                    "--ignore-scripts",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    "--prefix",
                    scratch,
                ],
                {
                    timeoutMs: 600_000,
                },
            );
            fs.rmSync(dir, { recursive: true, force: true });
            fs.renameSync(scratch, dir);
        } finally {
            fs.rmSync(scratch, { recursive: true, force: true });
        }
    }
    const driver = require(entry); // eslint-disable-line @typescript-eslint/no-require-imports -- loaded from the cache at run time
    const version = JSON.parse(fs.readFileSync(path.join(entry, "package.json"), "utf8")).version;
    if (version !== "3.6.7") {
        throw new Error(`${entry} is mongodb ${version}, not Nuve's 3.6.7`);
    }
    return driver;
}
