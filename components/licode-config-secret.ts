/** The rendered licode_config.js, held in a Secret because it carries credentials. */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LICODE } from "./images";
import { checksum } from "./meta";
import {
    LicodeConfigInput,
    LicodeTurnValues,
    defaultConfigPath,
    log4jsPath,
    renderLicodeConfig,
    renderLog4js,
} from "./licode-config-file";
import { publicChecksum } from "./tier";

const TOKEN = "licode:index:LicodeConfigSecret";
const CONFIG_KEY = "licode_config.js";
const LOG4JS_KEY = "log4js_configuration.json";

/** Arguments of the LicodeConfigSecret component. */
export interface LicodeConfigSecretArgs {
    /** Namespace of the Secret. Required. */
    readonly namespace: pulumi.Input<string>;
    /** Labels for the Secret. Required. */
    readonly labels: Record<string, string>;
    /** The stack settings the file is rendered from. Required. */
    readonly settings: LicodeConfigInput;
    /** AMQP URL with credentials. Required. */
    readonly rabbitUrl: pulumi.Input<string>;
    /** MongoDB URL with credentials. Required. */
    readonly mongoUrl: pulumi.Input<string>;
    /** Superservice ID. Required. */
    readonly superserviceId: pulumi.Input<string>;
    /** Superservice key. Required. */
    readonly superserviceKey: pulumi.Input<string>;
    /** Where the Licode image keeps its code. Defaults to /opt/licode. */
    readonly installDir?: string;
    /** The stack's TURN server and its credentials. Defaults to none. */
    readonly turn?: pulumi.Input<LicodeTurnValues>;
}

/** How a pod mounts the rendered config. */
export interface LicodeConfigMount {
    readonly volume: k8s.types.input.core.v1.Volume;
    readonly volumeMounts: k8s.types.input.core.v1.VolumeMount[];
    /** sha256 of the rendered files, for the pods' checksum annotation. */
    readonly checksum: pulumi.Output<string>;
}

/**
 * Renders licode_config.js and its log4js file into one autonamed Secret: changed content gets a
 * new name, and the consumers' checksum annotation changes with it, so exactly they roll.
 */
export class LicodeConfigSecret extends pulumi.ComponentResource {
    /** The Secret's generated name. */
    public readonly secretName: pulumi.Output<string>;
    /** sha256 of the rendered files. */
    public readonly checksum: pulumi.Output<string>;
    private readonly installDir: string;

    constructor(
        name: string,
        args: LicodeConfigSecretArgs,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        // The component was typed licode:index:LicodeConfig before; the alias keeps the URNs of
        // existing stacks, so the Secret is not replaced and no pod rolls because of the rename.
        super(
            TOKEN,
            name,
            {},
            {
                ...opts,
                aliases: [...(opts?.aliases ?? []), { type: "licode:index:LicodeConfig" }],
            },
        );
        this.installDir = args.installDir ?? LICODE.installDir;
        const installDir = this.installDir;
        const files = pulumi
            .all([
                args.rabbitUrl,
                args.mongoUrl,
                args.superserviceId,
                args.superserviceKey,
                pulumi.output(args.turn),
            ])
            .apply(([rabbitUrl, mongoUrl, superserviceId, superserviceKey, turn]) => ({
                [CONFIG_KEY]: renderLicodeConfig(args.settings, {
                    rabbitUrl,
                    mongoUrl,
                    superserviceId,
                    superserviceKey,
                    installDir,
                    turn: turn as LicodeTurnValues | undefined,
                }),
                [LOG4JS_KEY]: renderLog4js(args.settings.logLevel),
            }));
        const secret = new k8s.core.v1.Secret(
            name,
            {
                metadata: { namespace: args.namespace, labels: args.labels },
                type: "Opaque",
                stringData: pulumi.secret(files),
            },
            { parent: this },
        );
        this.secretName = secret.metadata.name;
        this.checksum = publicChecksum(files.apply(checksum));
        this.registerOutputs({ secretName: this.secretName, checksum: this.checksum });
    }

    /**
     * The volume and mounts for a Licode container. The file lands where the image's entrypoint
     * copies its default from, so the entrypoint still writes a writable licode_config.js and can
     * append per-pod values (PUBLIC_IP, MIN_PORT, MAX_PORT) that a read-only mount would refuse.
     */
    public mount(): LicodeConfigMount {
        return {
            volume: { name: "licode-config", secret: { secretName: this.secretName } },
            volumeMounts: [
                {
                    name: "licode-config",
                    mountPath: defaultConfigPath(this.installDir),
                    subPath: CONFIG_KEY,
                    readOnly: true,
                },
                {
                    name: "licode-config",
                    mountPath: log4jsPath(this.installDir),
                    subPath: LOG4JS_KEY,
                    readOnly: true,
                },
            ],
            checksum: this.checksum,
        };
    }
}
