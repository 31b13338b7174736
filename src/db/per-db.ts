import type { Db } from './open'

/**
 * A store (an object of functions over one database) built once per database instead of on every call: the
 * stores are called on every request and run, and building ~20 closures each time showed in profiles.
 *
 *   const fooStoreOf = (db: Db) => ({ get: (id: string) => db.query('SELECT ...').get(id) })
 *   export const fooStore = perDb(fooStoreOf)
 */
export function perDb<T>(make: (db: Db) => T): (db: Db) => T {
  const built = new WeakMap<Db, T>()
  return (db) => {
    let store = built.get(db)
    if (!store) built.set(db, (store = make(db)))
    return store
  }
}
