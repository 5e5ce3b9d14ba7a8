/**
 * How long the drains wait, shared by the hooks (components/hooks.ts), the tiers and the config's
 * checks of the grace periods (components/config/erizo-controller.ts, media.ts).
 */
import { LICODE } from "../images";

/** Seconds a drain keeps for itself at the end of the grace period: its helper's last step, then node's stop. */
export const DRAIN_RESERVE_SECONDS = 15;

/** Of the reserve, the most seconds the hook waits for its helper's last step (release rooms, unbind). */
export const DRAIN_FINISH_SECONDS = 10;

/**
 * A controller's drain ends once no client has been connected for this long: longer than a client
 * whose socket dropped keeps its seat to reconnect (images.ts LICODE.erizoController).
 */
export const CONTROLLER_QUIET_SECONDS = LICODE.erizoController.reconnectionSeconds + 5;

/**
 * An agent's drain ends once no media socket has been bound for this long: a dropped client's
 * sessions end only after its reconnection window, and a new session binds its first socket a
 * moment after its worker was handed out.
 */
export const AGENT_QUIET_SECONDS = LICODE.erizoController.reconnectionSeconds + 10;

/**
 * The shortest grace period whose drain can end on its quiet window rather than its deadline for
 * work that ends in the drain's first half: the reserve, plus the quiet window twice.
 */
export function minimumGracePeriod(quietSeconds: number): number {
    return DRAIN_RESERVE_SECONDS + 2 * quietSeconds;
}
