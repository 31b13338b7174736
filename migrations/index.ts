// Every migration, embedded into the binary as text. Add new files here in order.
import m0001 from './0001_foundation.sql' with { type: 'text' }
import m0003 from './0003_tools.sql' with { type: 'text' }
import m0004 from './0004_endpoints.sql' with { type: 'text' }
import m0005 from './0005_bots.sql' with { type: 'text' }
import m0006 from './0006_channels.sql' with { type: 'text' }
import m0007 from './0007_bot_accounts_webhooks.sql' with { type: 'text' }
import m0008 from './0008_runs.sql' with { type: 'text' }
import m0009 from './0009_security.sql' with { type: 'text' }
import m0011 from './0011_chat.sql' with { type: 'text' }
import m0012 from './0012_workflows.sql' with { type: 'text' }
import m0013 from './0013_scheduler_agents.sql' with { type: 'text' }
import m0014 from './0014_reach.sql' with { type: 'text' }
import m0015 from './0015_runs_list.sql' with { type: 'text' }
import m0016 from './0016_schedule_skip_reason.sql' with { type: 'text' }

export interface Migration { name: string; sql: string }

export const migrations: Migration[] = [
  { name: '0001_foundation.sql', sql: m0001 },
  { name: '0003_tools.sql', sql: m0003 },
  { name: '0004_endpoints.sql', sql: m0004 },
  { name: '0005_bots.sql', sql: m0005 },
  { name: '0006_channels.sql', sql: m0006 },
  { name: '0007_bot_accounts_webhooks.sql', sql: m0007 },
  { name: '0008_runs.sql', sql: m0008 },
  { name: '0009_security.sql', sql: m0009 },
  { name: '0011_chat.sql', sql: m0011 },
  { name: '0012_workflows.sql', sql: m0012 },
  { name: '0013_scheduler_agents.sql', sql: m0013 },
  { name: '0014_reach.sql', sql: m0014 },
  { name: '0015_runs_list.sql', sql: m0015 },
  { name: '0016_schedule_skip_reason.sql', sql: m0016 },
]
