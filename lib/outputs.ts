/** The entries whose value is defined: Pulumi warns about undefined stack outputs rather than omitting them. */
export function definedOnly<T extends Record<string, unknown>>(outputs: T): Partial<T> {
    return Object.fromEntries(Object.entries(outputs).filter(([, v]) => v !== undefined)) as Partial<T>;
}
