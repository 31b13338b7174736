export { ExprError, ROOTS, parsePath, placeholders, resolvePath, substitute, type Substitution } from './substitute'
export { compile, evaluate, evaluateBool, unsafePattern, MAX_EXPRESSION_CHARS } from './cel'
export { applyOperator, evaluateCondition, OPERATORS, type ConditionOutcome } from './condition'
