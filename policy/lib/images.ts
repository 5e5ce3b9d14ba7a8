// Container image references: splitting "registry:5000/org/img:tag@sha256:..." into its parts,
// and naming the repository the way the container runtime resolves it (distribution/reference
// ParseNormalizedNamed): "mongo" is docker.io/library/mongo, "lynckia/licode" is
// docker.io/lynckia/licode, "registry:5000/licode" stays on registry:5000.

/** The parts of an image reference. */
export interface ImageRef {
    readonly name: string;
    readonly tag: string | undefined;
    readonly digest: string | undefined;
}

/** Splits "registry:5000/org/img:tag@sha256:..." into name, tag and digest. */
export function parseImage(ref: string): ImageRef {
    const at = ref.indexOf("@");
    const nameAndTag = at >= 0 ? ref.slice(0, at) : ref;
    const digest = at >= 0 ? ref.slice(at + 1) : undefined;
    // The tag is after the last ":" of the last path component; earlier colons are ports.
    const lastSlash = nameAndTag.lastIndexOf("/");
    const colon = nameAndTag.indexOf(":", lastSlash + 1);
    if (colon < 0) {
        return { name: nameAndTag, tag: undefined, digest };
    }
    return { name: nameAndTag.slice(0, colon), tag: nameAndTag.slice(colon + 1), digest };
}

const DOCKER_HUB = "docker.io";
const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/**
 * The fully qualified repository of an image name (no tag, no digest): the first path component
 * is a registry when it contains "." or ":", is "localhost", or has upper-case letters; otherwise
 * the image is on Docker Hub, and a single-component name is an official image under library/.
 */
export function normalizeRepository(name: string): string {
    const slash = name.indexOf("/");
    const first = slash < 0 ? "" : name.slice(0, slash);
    const isRegistry =
        slash >= 0 &&
        (first.includes(".") ||
            first.includes(":") ||
            first === "localhost" ||
            first !== first.toLowerCase());
    let registry = isRegistry ? first : DOCKER_HUB;
    let path = isRegistry ? name.slice(slash + 1) : name;
    if (DOCKER_HUB_ALIASES.has(registry.toLowerCase())) {
        registry = DOCKER_HUB;
        if (!path.includes("/")) {
            path = `library/${path}`;
        }
    }
    return `${registry}/${path}`;
}

/**
 * Whether a normalized repository is under an allow-list entry: "*" allows everything; otherwise
 * the entry is a registry host, optionally with a path ("docker.io/library", "ghcr.io/org"), and
 * matches whole path components ("docker.io/lynckia" allows docker.io/lynckia/licode, not
 * docker.io/lynckiax/licode). A trailing "/" or "/*" is ignored; Docker Hub aliases count as
 * docker.io.
 */
export function repositoryAllowed(repository: string, entry: string): boolean {
    let e = entry.trim().replace(/\/\*$/, "").replace(/\/+$/, "");
    if (e === "*") {
        return true;
    }
    if (e === "") {
        return false;
    }
    const slash = e.indexOf("/");
    const host = slash < 0 ? e : e.slice(0, slash);
    if (DOCKER_HUB_ALIASES.has(host.toLowerCase())) {
        e = DOCKER_HUB + (slash < 0 ? "" : e.slice(slash));
    }
    return repository === e || repository.startsWith(`${e}/`);
}
