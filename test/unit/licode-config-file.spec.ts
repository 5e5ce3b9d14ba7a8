/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON here */
import * as assert from "assert";
import * as vm from "vm";
import { parseStackConfig } from "../../components/config";
import { renderLicodeConfig, renderLog4js } from "../../components/licode-config-file";

const VALUES = {
    rabbitUrl: "amqp://licode:pw@licode-rabbitmq.licode.svc:5672",
    mongoUrl: "mongodb://root:pw@licode-mongodb.licode.svc:27017/nuvedb?authSource=admin",
    superserviceId: "0123456789abcdef01234567",
    superserviceKey: "key",
    installDir: "/opt/licode",
};

/** Loads the rendered file the way the tiers do: as a CommonJS module. */
function load(text: string): Record<string, any> {
    const module = { exports: {} as Record<string, any> };
    vm.runInNewContext(text, { module });
    return module.exports;
}

describe("renderLicodeConfig", () => {
    const base = { networkPolicy: { enabled: false } };

    it("renders a module every tier can require, carrying the generated values", () => {
        const config = load(renderLicodeConfig(parseStackConfig(base), VALUES));
        assert.strictEqual(config.rabbit.url, VALUES.rabbitUrl);
        assert.strictEqual(config.rabbit.host, "licode-rabbitmq.licode.svc");
        assert.strictEqual(config.nuve.dataBaseURL, VALUES.mongoUrl);
        assert.strictEqual(config.nuve.superserviceID, VALUES.superserviceId);
        assert.strictEqual(config.nuve.superserviceKey, VALUES.superserviceKey);
        assert.strictEqual(config.logger.configFile, "/opt/licode/log4js_configuration.json");
        assert.strictEqual(config.erizoController.exitOnNuveCheckFail, true);
    });

    it("takes the public address from the interface name, as the seed did with eth0", () => {
        const config = load(renderLicodeConfig(parseStackConfig(base), VALUES));
        assert.strictEqual(config.erizoController.networkinterface, "eth0");
        assert.strictEqual(config.erizoAgent.networkinterface, "eth0");
        assert.strictEqual(config.erizoAgent.publicIP, "");
    });

    it("writes a static public address and the media range", () => {
        const parsed = parseStackConfig({
            ...base,
            publicAddress: { from: "static", ip: "203.0.113.7" },
            media: { portRange: { min: 42000, max: 42499 } },
        });
        const config = load(renderLicodeConfig(parsed, VALUES));
        assert.strictEqual(config.erizoController.publicIP, "203.0.113.7");
        assert.strictEqual(config.erizoAgent.publicIP, "203.0.113.7");
        assert.deepStrictEqual([config.erizo.minport, config.erizo.maxport], [42000, 42499]);
    });

    it("keeps hostile values as data, never as code", () => {
        const parsed = parseStackConfig({
            ...base,
            iceServers: [
                {
                    urls: "turn:t.example.com",
                    username: "u",
                    credential: '"; throw new Error("x"); "',
                },
            ],
        });
        const config = load(
            renderLicodeConfig(parsed, { ...VALUES, superserviceKey: "'\n}; throw 1; //" }),
        );
        assert.strictEqual(
            config.erizoController.iceServers[0].credential,
            '"; throw new Error("x"); "',
        );
        assert.strictEqual(config.nuve.superserviceKey, "'\n}; throw 1; //");
    });

    it("sets every logger to the stack's level", () => {
        assert.strictEqual(JSON.parse(renderLog4js("WARN")).categories.default.level, "WARN");
    });
});
