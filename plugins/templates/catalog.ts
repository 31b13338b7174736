export const TEMPLATES: unknown[] = []
