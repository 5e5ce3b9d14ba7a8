/** The superservice Nuve's clients sign with: its key's generation, or the operator's Secret. */
import { z } from "zod";
import { existingSecret } from "./secrets";

/** The superservice's ID and key are generated unless the operator names a Secret holding them. */
export const superservice = z.strictObject({
    keyGeneration: z.number().int().min(1).default(1),
    existingSecret: existingSecret({ id: "id", key: "key" }).optional(),
});
