import { TEMPLATES } from './catalog'
export const workflowTemplates = () => TEMPLATES
