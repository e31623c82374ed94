/** Throws an Error (with `problems`) when the event breaks its consumer schema or names an unknown major. */
export declare function validate(event: unknown): void;
/** Every problem of the event against its consumer schema; empty when it is valid. */
export declare function problems(event: unknown): string[];
