import { html } from 'htm/preact'
import { api } from '../api'
import { ErrorNote, Field, formValues, useAction } from '../components'
import { refreshSession } from '../state'

/** The sign-in screen, or the first-run screen that creates the admin when no user exists yet. */
export function SignIn({ setup }: { setup: boolean }) {
  const action = useAction(async (values: Record<string, string>) => {
    if (setup) {
      if (values.password !== values.confirm) throw new Error('The two passwords differ')
      await api('/api/auth/register', { method: 'POST', body: { email: values.email, password: values.password } })
    }
    await api('/api/auth/login', { method: 'POST', body: { email: values.email, password: values.password } })
    await refreshSession()
  })
  return html`<main class="signin" id="main">
    <h1 id="page-title" tabindex="-1">${setup ? 'Create the admin account' : 'Sign in to Agentbase'}</h1>
    ${setup ? html`<p>This server has no users yet. The account you create now is its administrator.</p>` : null}
    <form onSubmit=${(e: Event) => action.run(formValues(e))}>
      <${Field} label="Email"><input name="email" type="email" autocomplete="username" required /><//>
      <${Field} label="Password" hint=${setup ? 'At least 8 characters' : undefined}>
        <input name="password" type="password" autocomplete=${setup ? 'new-password' : 'current-password'} required minlength=${setup ? 8 : undefined} /><//>
      ${setup ? html`<${Field} label="Repeat the password"><input name="confirm" type="password" autocomplete="new-password" required /><//>` : null}
      <${ErrorNote} error=${action.error} />
      <button type="submit" disabled=${action.busy}>${setup ? 'Create admin and sign in' : 'Sign in'}</button>
    </form></main>`
}
