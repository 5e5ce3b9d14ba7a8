// The pack's policies, importable without starting a pack (policy/index.ts wraps them).

import type { Policies } from "@pulumi/policy";
import { configConsumersRollOnChange } from "./config-consumers-roll-on-change";
import { hostNetworkAllowList } from "./host-network-allow-list";
import { imagePinned } from "./image-pinned";
import { probesLivenessNotStricterThanReadiness } from "./probes-liveness-not-stricter-than-readiness";
import { replicatedWorkloadsHavePdb } from "./replicated-workloads-have-pdb";
import { requiredProbes } from "./required-probes";
import { resourceRequestsAndLimits } from "./resource-requests-and-limits";
import { statefulTiersGuaranteedQos } from "./stateful-tiers-guaranteed-qos";
import { statefulsetServiceHeadless } from "./statefulset-service-headless";

export {
    configConsumersRollOnChange,
    hostNetworkAllowList,
    imagePinned,
    probesLivenessNotStricterThanReadiness,
    replicatedWorkloadsHavePdb,
    requiredProbes,
    resourceRequestsAndLimits,
    statefulTiersGuaranteedQos,
    statefulsetServiceHeadless,
};

/** Every policy of the pack, resource policies first. */
export const policies: Policies = [
    resourceRequestsAndLimits,
    requiredProbes,
    probesLivenessNotStricterThanReadiness,
    imagePinned,
    hostNetworkAllowList,
    statefulTiersGuaranteedQos,
    configConsumersRollOnChange,
    replicatedWorkloadsHavePdb,
    statefulsetServiceHeadless,
];
