/** What the image suites need on this host; each missing piece fails the suite with how to get it. */
import { run } from "./runc";

/** Root, runc, iproute2 and overlayfs: runc.ts runs containers with them. */
export async function requireRunc(): Promise<void> {
    if (process.getuid?.() !== 0) {
        throw new Error(
            "the image tests run containers with runc and need root (run them as root)",
        );
    }
    for (const [tool, pkg] of [
        ["runc", "runc"],
        ["ip", "iproute2"],
        ["mmdebstrap", "mmdebstrap"],
    ]) {
        const found = await run("bash", ["-c", `command -v ${tool}`]);
        if (found.code !== 0) {
            throw new Error(`'${tool}' is not on PATH: apt-get install ${pkg}`);
        }
    }
    const filesystems = await run("cat", ["/proc/filesystems"]);
    if (!/\toverlay$/m.test(filesystems.stdout)) {
        throw new Error(
            "the kernel offers no overlay filesystem, which runc.ts mounts under each container",
        );
    }
}
