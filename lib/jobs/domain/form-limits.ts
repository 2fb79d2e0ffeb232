/**
 * Limits of the "Generate" form, without Zod, so that client components can show them without
 * loading the schema library with the page (it is loaded when the form is first checked).
 */
export const PROMPT_MIN = 3;
export const PROMPT_MAX = 2000;
export const NEGATIVE_PROMPT_MAX = 500;
export const SEED_MAX = 2_147_483_647;
