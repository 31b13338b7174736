/**
 * The issue-13 step-overhead workflow: 10 transform steps (templates and CEL expressions), used by
 * bench/workflows.ts (in-process) and bench/n8n.ts (over HTTP, side by side with the same steps in n8n).
 * For `{ name: 'Ada', n: 7, tags: ['a', 'vip'] }` the output is `{ total: 80, vip: true }`.
 */
export const STEPS = [
  { id: 's1', type: 'transform', template: { name: '{{ input.name }}', n: '{{ input.n }}' } },
  { id: 's2', type: 'transform', expression: 'steps.s1.n + 1' },
  { id: 's3', type: 'transform', template: 'Hello {{ steps.s1.name }} #{{ steps.s2 }}' },
  { id: 's4', type: 'transform', expression: 'size(steps.s3)' },
  { id: 's5', type: 'transform', template: { len: '{{ steps.s4 }}', tags: '{{ input.tags }}' } },
  { id: 's6', type: 'transform', expression: '"vip" in input.tags' },
  { id: 's7', type: 'transform', template: { vip: '{{ steps.s6 }}', who: '{{ steps.s1.name }}' } },
  { id: 's8', type: 'transform', expression: 'steps.s2 * 10' },
  { id: 's9', type: 'transform', template: '{{ steps.s8 }}' },
  { id: 's10', type: 'transform', expression: '{"total": steps.s9, "vip": steps.s7.vip}' },
]
