import { t } from 'elysia'

export const CreateWorkspace = t.Object({
  name: t.String({ minLength: 1, maxLength: 100 }),
  description: t.Optional(t.Nullable(t.String({ maxLength: 500 }))),
})
export const UpdateWorkspace = t.Partial(CreateWorkspace)

export const Workspace = t.Object({
  id: t.String(), owner_id: t.String(), name: t.String(), description: t.Nullable(t.String()), created_at: t.String(), updated_at: t.String(),
})
export type WorkspaceView = typeof Workspace.static
