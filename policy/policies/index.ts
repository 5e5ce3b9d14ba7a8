// The pack's policies, importable without starting a pack (policy/index.ts wraps them).

import type { Policies } from "@pulumi/policy";
import { configConsumersRollOnChange } from "./config-consumers-roll-on-change";
import { ephemeralStorage } from "./ephemeral-storage";
import { hostNetworkAllowList } from "./host-network-allow-list";
import { imageDigestAndRegistry } from "./image-digest-and-registry";
import { imagePinned } from "./image-pinned";
import { networkPolicyCoverage } from "./network-policy-coverage";
import { noServiceAccountToken } from "./no-service-account-token";
import { podSecurity } from "./pod-security";
import { probesLivenessNotStricterThanReadiness } from "./probes-liveness-not-stricter-than-readiness";
import { replicatedWorkloadsHavePdb } from "./replicated-workloads-have-pdb";
import { requiredProbes } from "./required-probes";
import { resourceRequestsAndLimits } from "./resource-requests-and-limits";
import { serviceRouting } from "./service-routing";
import { statefulTiersGuaranteedQos } from "./stateful-tiers-guaranteed-qos";
import { statefulsetServiceHeadless } from "./statefulset-service-headless";
import { turnAdvertisedToClients } from "./turn-advertised-to-clients";
import { turnDeniesPrivatePeers } from "./turn-denies-private-peers";
import { turnRelayRangeClearOfMedia } from "./turn-relay-range-clear-of-media";
import { turnTlsHasCertificate } from "./turn-tls-has-certificate";

export {
    configConsumersRollOnChange,
    ephemeralStorage,
    hostNetworkAllowList,
    imageDigestAndRegistry,
    imagePinned,
    networkPolicyCoverage,
    noServiceAccountToken,
    podSecurity,
    probesLivenessNotStricterThanReadiness,
    replicatedWorkloadsHavePdb,
    requiredProbes,
    resourceRequestsAndLimits,
    serviceRouting,
    statefulTiersGuaranteedQos,
    statefulsetServiceHeadless,
    turnAdvertisedToClients,
    turnDeniesPrivatePeers,
    turnRelayRangeClearOfMedia,
    turnTlsHasCertificate,
};

/** Every policy of the pack, resource policies first. */
export const policies: Policies = [
    resourceRequestsAndLimits,
    requiredProbes,
    probesLivenessNotStricterThanReadiness,
    imagePinned,
    imageDigestAndRegistry,
    hostNetworkAllowList,
    podSecurity,
    statefulTiersGuaranteedQos,
    ephemeralStorage,
    configConsumersRollOnChange,
    replicatedWorkloadsHavePdb,
    statefulsetServiceHeadless,
    noServiceAccountToken,
    networkPolicyCoverage,
    serviceRouting,
    turnRelayRangeClearOfMedia,
    turnTlsHasCertificate,
    turnDeniesPrivatePeers,
    turnAdvertisedToClients,
];
