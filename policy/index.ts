// The Licode policy pack. Policies live in ./policies (importable without starting a pack);
// levels per environment come from config/<stack>.json via --policy-pack-config.

import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("licode", { policies });
