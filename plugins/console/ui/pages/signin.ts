import { html } from 'htm/preact'
import { useState } from 'preact/hooks'
import { api } from '../api'
import { ErrorNote, Field, formValues, useAction } from '../components'
import { refreshSession } from '../state'

/**
 * The sign-in screen; the first-run screen that creates the admin when no user exists yet; and, when the
 * server has open registration, a link to create an account.
 */
export function SignIn({ setup, open }: { setup: boolean; open: boolean }) {
  const [registering, setRegistering] = useState(false)
  const creating = setup || registering
  const action = useAction(async (values: Record<string, string>) => {
    if (creating) {
      if (values.password !== values.confirm) throw new Error('The two passwords differ')
      await api('/api/auth/register', { method: 'POST', body: { email: values.email, password: values.password } })
    }
    await api('/api/auth/login', { method: 'POST', body: { email: values.email, password: values.password } })
    await refreshSession()
  })
  const title = setup ? 'Create the admin account' : registering ? 'Create an account' : 'Sign in to Agentbase'
  const submit = setup ? 'Create admin and sign in' : registering ? 'Create account and sign in' : 'Sign in'
  return html`<main class="signin" id="main">
    <h1 id="page-title" tabindex="-1">${title}</h1>
    ${setup ? html`<p>This server has no users yet. The account you create now is its administrator.</p>` : null}
    <form onSubmit=${(e: Event) => action.run(formValues(e))}>
      <${Field} label="Email"><input name="email" type="email" autocomplete="username" required /><//>
      <${Field} label="Password" hint=${creating ? 'At least 8 characters' : undefined}>
        <input name="password" type="password" autocomplete=${creating ? 'new-password' : 'current-password'} required minlength=${creating ? 8 : undefined} /><//>
      ${creating ? html`<${Field} label="Repeat the password"><input name="confirm" type="password" autocomplete="new-password" required /><//>` : null}
      <${ErrorNote} error=${action.error} />
      <button type="submit" disabled=${action.busy}>${submit}</button>
    </form>
    ${open && !setup ? html`<p><button type="button" class="link" onClick=${() => setRegistering(!registering)}>
      ${registering ? 'I have an account: sign in' : 'No account yet? Create one'}</button></p>` : null}
  </main>`
}
