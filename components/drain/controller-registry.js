"use strict";
/**
 * Holds this ErizoController out of Nuve's choice for new rooms while it drains:
 *
 *   node controller-registry.js hold-full     until killed, keep this controller at state 0 ("full")
 *
 * It runs inside the ErizoController container with the image's own node (Node.js 12) and the
 * image's own RPC module, with the credentials the controller already has, so it needs no module
 * of its own, no new access, and no syntax newer than ES2019.
 *
 * How Licode places rooms (github.com/lynckia/licode, tag v10): Nuve keeps each controller in
 * nuvedb.erizoControllers with a state, 2 available, 1 warning, 0 full, and gives a new room to
 * an available one, then a warning one, and to a full one only when nothing else is left
 * (nuve/nuveAPI/cloudHandler.js 24-64); a room already assigned stays with its controller
 * whatever its state (178-193). A controller reports its state with the `setInfo` RPC
 * (erizo_controller/erizoController/nuveProxy.js 30), and only when its own room count crosses
 * warning_n_rooms or limit_n_rooms (erizoController.js 285-311), so the state set here is set
 * again every interval. The controller is found in Nuve's list (`getErizoControllers`,
 * nuve/nuveAPI/rpc/rpcPublic.js 60-64) by the address and port it registered with
 * (erizoController.js 180-205, 240-248).
 */
const os = require("os");

const FULL = 0;

/** The address the controller registered with: `publicIP`, else its interface's first IPv4 (erizoController.js 180-205). */
function registeredAddress(config) {
    const ec = config.erizoController || {};
    if (ec.publicIP !== "" && ec.publicIP !== undefined) {
        return ec.publicIP;
    }
    const interfaces = os.networkInterfaces();
    const names = Object.keys(interfaces).filter(
        (n) => !ec.networkinterface || ec.networkinterface === n,
    );
    for (let i = 0; i < names.length; i += 1) {
        const found = interfaces[names[i]].find(
            (a) => (a.family === "IPv4" || a.family === 4) && !a.internal,
        );
        if (found) {
            return found.address;
        }
    }
    return undefined;
}

/**
 * This controller's entry: the newest one with its address and port (an entry of a controller
 * that died on this node lingers for about ten seconds). Pure.
 */
function findSelf(controllers, address, port) {
    const mine = controllers
        .filter((c) => c.ip === address && String(c.port) === String(port))
        .map((c) => String(c._id))
        .sort();
    return mine.length === 0 ? undefined : mine[mine.length - 1];
}

function main(env, log) {
    const licodeDir = env.LICODE_DIR || "/opt/licode";
    const interval = Number(env.LICODE_REGISTRY_INTERVAL_MS || 2000);
    // What erizoController.js 7 and 14 do before loading the RPC module (amqper.js 10-39 reads it).
    global.config = require(`${licodeDir}/licode_config.js`);
    const amqper = require(`${licodeDir}/erizo_controller/common/amqper`);
    const address = registeredAddress(global.config);
    const port = global.config.erizoController.port;

    const callNuve = (method, args) =>
        new Promise((resolve, reject) => {
            amqper.callRpc("nuve", method, args, {
                callback(response) {
                    if (response === "timeout" || response === "error") {
                        reject(new Error(`Nuve did not answer ${method} (${response})`));
                    } else {
                        resolve(response);
                    }
                },
            });
        });

    let id;
    let said = "";
    const say = (line) => {
        if (line !== said) {
            log(line);
            said = line;
        }
    };
    const tick = () => {
        const step =
            id !== undefined
                ? Promise.resolve(id)
                : callNuve("getErizoControllers", {}).then((list) =>
                      findSelf(list || [], address, port),
                  );
        step.then((found) => {
            id = found;
            if (id === undefined) {
                say(`no controller at ${address}:${port} in Nuve's registry yet`);
                return undefined;
            }
            return callNuve("setInfo", { id, state: FULL }).then(() =>
                say(`controller ${id} (${address}:${port}) takes no new rooms`),
            );
        })
            .catch((error) => say(`could not mark the controller full, retrying: ${error.message}`))
            .then(() => setTimeout(tick, interval));
    };
    amqper.connect(tick);
}

module.exports = { findSelf, registeredAddress };

if (require.main === module) {
    process.on("SIGTERM", () => process.exit(0));
    main(process.env, (line) => console.log(`[controller-registry] ${line}`));
}
