// bun test preload (bunfig.toml): the app imports the console bundle, so make sure it exists first.
import { bundleConsole } from './bundle'
await bundleConsole()
