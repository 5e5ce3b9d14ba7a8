// Violation messages: what is wrong (resource, container, field), why it matters, how to fix it.

/** Joins the parts of a violation message. */
export function violation(subject: string, problems: string[], why: string, fix: string): string {
    return `${subject}: ${problems.join("; ")}. Why: ${capitalize(why)} Fix: ${capitalize(fix)}`;
}

/** A value as it appears in a message: strings quoted, everything else as JSON. */
export function show(value: unknown): string {
    if (typeof value === "string") {
        return JSON.stringify(value);
    }
    try {
        return JSON.stringify(value) ?? String(value);
    } catch {
        return String(value);
    }
}

/** The sentence with its first letter in upper case. */
export function capitalize(s: string): string {
    return s.charAt(0).toUpperCase() + s.slice(1);
}
