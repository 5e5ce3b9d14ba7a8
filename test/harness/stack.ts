/** The resources of a whole stack (dev, prod, ...) as the program registers them under mocks. */
import { StackResource, runProgram, stackConfig } from "./program";

export { StackResource } from "./program";

/** Every resource of stack `stack`, from its Pulumi.<stack>.yaml. */
export async function stackResources(stack: string): Promise<StackResource[]> {
    return (await runProgram(stack, stackConfig(stack))).resources;
}
