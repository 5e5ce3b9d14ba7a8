/** MongoDB's config: where its data lives, and the database tier itself. */
import { isIP } from "net";
import { z } from "zod";
import { DNS_1123_SUBDOMAIN, quantity, replicas, tier } from "./common";
import { userSecret } from "./secrets";

/** A host the kubelet can mount NFS from: an IPv4 or IPv6 address, or a DNS name. */
function isHost(value: string): boolean {
    if (isIP(value) !== 0) {
        return true;
    }
    // Digits and dots that are no IPv4 address are a mistyped address, not a DNS name.
    return !/^[\d.]+$/.test(value) && value.length <= 253 && DNS_1123_SUBDOMAIN.test(value);
}

const absolutePath = (what: string) =>
    z
        .string()
        .refine((path) => path.startsWith("/"), {
            message: `${what} must be an absolute path starting with "/"`,
        })
        .refine((path) => !path.split("/").includes(".."), {
            message: `${what} must not contain ".." segments`,
        });

const dataProtection = z.enum(["none", "protect", "retainOnDelete"]);

/** The `storage` key: where MongoDB keeps its data. */
export const storage = z.discriminatedUnion(
    "kind",
    [
        z.strictObject({
            kind: z.literal("nfs"),
            server: z
                .string()
                .min(1, "the NFS server is required: set storage.server to its address or DNS name")
                .refine(isHost, {
                    message:
                        "the NFS server must be an IPv4 address (192.168.94.40), an IPv6 address (fd00::40) or a DNS name (nfs.example.com)",
                }),
            path: absolutePath("the NFS export path").default("/nfs_mongodb/mongodb"),
            size: quantity("the volume size").default("10Gi"),
            reclaimPolicy: z.enum(["Retain", "Delete"]).default("Retain"),
            dataProtection: dataProtection.default("none"),
        }),
        z.strictObject({
            kind: z.literal("hostPath"),
            path: absolutePath("the host path"),
            node: z
                .string()
                .max(253)
                .regex(
                    DNS_1123_SUBDOMAIN,
                    "set storage.node to the name of the node that holds the directory (kubectl get nodes), so MongoDB always returns to its data",
                ),
            size: quantity("the volume size").default("10Gi"),
            dataProtection: dataProtection.default("none"),
        }),
        z.strictObject({
            kind: z.literal("storageClass"),
            className: z.string().optional(),
            size: quantity("the volume size").default("10Gi"),
            dataProtection: dataProtection.default("none"),
        }),
        z.strictObject({
            kind: z.literal("external"),
            url: z
                .string()
                .regex(
                    /^mongodb(\+srv)?:\/\/.+/,
                    'the external MongoDB URL must start with "mongodb://" or "mongodb+srv://"',
                ),
        }),
    ],
    { error: 'storage.kind must be one of "nfs", "hostPath", "storageClass" or "external"' },
);

/** The `mongodb` key. */
export const mongodb = tier.extend({
    existingSecret: userSecret.optional(),
    replicas: replicas
        .max(
            1,
            "MongoDB runs as a single member here (Nuve's store); set 1 (or 0 to stop it), or use storage.kind: external for a replica set",
        )
        .optional(),
});
