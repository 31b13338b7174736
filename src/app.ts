import { Elysia } from 'elysia'
import type { Kernel } from './kernel'
import { httpCore } from './http/core'
import { docsPlugin } from '../plugins/docs/index'
import { opsPlugin } from '../plugins/ops/index'
import { runsPlugin } from '../plugins/runs/index'
import { authPlugin } from '../plugins/auth/index'
import { tokensPlugin } from '../plugins/tokens/index'
import { workspacesPlugin } from '../plugins/workspaces/index'
import { walletPlugin } from '../plugins/wallet/index'
import { connectionsPlugin } from '../plugins/connections/index'
import { mcpPlugin, mcpServersPlugin } from '../plugins/mcp/index'
import { channelsPlugin } from '../plugins/channels/index'
import { botAccountsPlugin } from '../plugins/bot-accounts/index'
import { webhooksPlugin } from '../plugins/webhooks/index'
import { botsPlugin } from '../plugins/bots/index'
import { agentEndpointsPlugin } from '../plugins/agent-endpoints/index'
import { chatPlugin } from '../plugins/chat/index'
import { consolePlugin } from '../plugins/console/index'
import { workflowsPlugin } from '../plugins/workflows/index'
import { templatesPlugin } from '../plugins/templates/index'
import { openaiPlugin } from '../plugins/openai/index'
import { mcpServerPlugin } from '../plugins/mcp-server/index'
import { v1Plugin } from '../plugins/v1/index'
import { register as registerScheduler } from './scheduler/register'
import { agentsPlugin } from '../plugins/agents/index'
import { register as registerAgents } from '../plugins/agents/register'
import { register as registerWallet } from '../plugins/wallet/register'
import { register as registerAgentEndpoints } from '../plugins/agent-endpoints/register'
import { register as registerChat } from '../plugins/chat/register'
import { register as registerMcp } from '../plugins/mcp/register'
import { register as registerConnections } from '../plugins/connections/register'
import { register as registerBotAccounts } from '../plugins/bot-accounts/register'
import { register as registerWebhooks } from '../plugins/webhooks/register'
import { register as registerChannels } from '../plugins/channels/register'
import { register as registerWorkflows } from '../plugins/workflows/register'
import { register as registerV1 } from '../plugins/v1/register'

const registered = new WeakSet<Kernel>()

/**
 * Each domain's wiring (tool providers, key resolvers, workers, run sources, the wallet), once per kernel.
 * Call right after createKernel, before routes are built or anything runs; createApp calls it too.
 */
export function registerDomains(k: Kernel) {
  if (registered.has(k)) return
  registered.add(k)
  registerWallet(k)
  registerMcp(k)
  registerConnections(k)
  registerBotAccounts(k)
  registerWebhooks(k)
  registerChannels(k)
  registerAgentEndpoints(k)
  registerWorkflows(k)
  registerChat(k)
  registerV1(k)
  registerScheduler(k)
  registerAgents(k)
}

/** The whole HTTP app: shared conventions, then one plugin per domain. Callable many times per process. */
export const createApp = (k: Kernel) => {
  registerDomains(k)
  return new Elysia({ name: 'agentbase', encodeSchema: false })
    .use(httpCore(k))
    .use(docsPlugin(k))
    .use(opsPlugin(k))
    .use(authPlugin(k))
    .use(tokensPlugin(k))
    .use(workspacesPlugin(k))
    .use(walletPlugin(k))
    .use(connectionsPlugin(k))
    .use(mcpServersPlugin(k))
    .use(mcpPlugin(k))
    .use(channelsPlugin(k))
    .use(botAccountsPlugin(k))
    .use(webhooksPlugin(k))
    .use(botsPlugin(k))
    .use(runsPlugin(k))
    .use(agentEndpointsPlugin(k))
    .use(workflowsPlugin(k))
    .use(templatesPlugin(k))
    .use(chatPlugin(k))
    .use(consolePlugin(k))
    .use(openaiPlugin(k))
    .use(mcpServerPlugin(k))
    .use(v1Plugin(k))
    .use(agentsPlugin(k))
}

export type App = ReturnType<typeof createApp>
