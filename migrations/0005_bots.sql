-- Bots on messaging platforms (issue 6): bots, templates, conversations, messages.
-- Analytics are computed from bot_messages / bot_conversations (indexed by bot and time), so deleting
-- a bot's conversations and messages removes its analytics with them.

CREATE TABLE bot_templates (
  id TEXT PRIMARY KEY,
  owner_id TEXT REFERENCES users(id) ON DELETE CASCADE,   -- NULL for system templates
  is_system INTEGER NOT NULL DEFAULT 0,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  category TEXT NOT NULL,
  system_prompt TEXT NOT NULL,
  welcome_message TEXT,
  fallback_message TEXT,
  config_fields TEXT NOT NULL DEFAULT '[]',          -- JSON [{ key, label, description, required, default }]
  suggested_mcp_servers TEXT NOT NULL DEFAULT '[]',  -- JSON [{ name, url, transport, description }]
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX bot_templates_category ON bot_templates(category, name);
CREATE INDEX bot_templates_owner ON bot_templates(owner_id);

CREATE TABLE bots (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  template_id TEXT REFERENCES bot_templates(id) ON DELETE SET NULL,
  name TEXT NOT NULL,
  slug TEXT NOT NULL,
  description TEXT,
  platform TEXT NOT NULL CHECK (platform IN ('telegram', 'discord', 'whatsapp', 'slack', 'custom')),
  platform_config TEXT,                 -- sealed JSON (SecretBox); NULL when empty
  status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'paused')),
  system_prompt TEXT NOT NULL,
  llm_provider TEXT NOT NULL DEFAULT 'anthropic',
  llm_model TEXT NOT NULL DEFAULT 'claude-sonnet-4-6',
  llm_api_key TEXT,                     -- sealed (SecretBox)
  llm_config TEXT NOT NULL DEFAULT '{}',
  billing_mode TEXT NOT NULL DEFAULT 'wallet' CHECK (billing_mode IN ('wallet', 'byok', 'plan_quota')),
  max_loop_iterations INTEGER NOT NULL DEFAULT 10,
  max_tokens_per_turn INTEGER NOT NULL DEFAULT 8192,
  timeout_ms INTEGER NOT NULL DEFAULT 30000,
  conversation_max_messages INTEGER NOT NULL DEFAULT 20,
  conversation_ttl_hours INTEGER NOT NULL DEFAULT 24,
  enable_rag INTEGER NOT NULL DEFAULT 0,
  welcome_message TEXT,
  fallback_message TEXT,
  spending_cap_micro INTEGER,           -- lifetime cap; NULL = none
  total_cost_micro INTEGER NOT NULL DEFAULT 0,
  workflow_json TEXT,
  workflow_enabled INTEGER NOT NULL DEFAULT 0,
  last_active_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (owner_id, slug)
);
CREATE INDEX bots_owner ON bots(owner_id, created_at);
CREATE INDEX bots_workspace ON bots(workspace_id);

CREATE TABLE bot_conversations (
  id TEXT PRIMARY KEY,
  bot_id TEXT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
  platform_chat_id TEXT NOT NULL,
  platform_user_id TEXT NOT NULL,
  platform_user_name TEXT,
  source TEXT NOT NULL DEFAULT 'platform' CHECK (source IN ('platform', 'test')),
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'expired')),
  message_count INTEGER NOT NULL DEFAULT 0,
  tokens_input INTEGER NOT NULL DEFAULT 0,
  tokens_output INTEGER NOT NULL DEFAULT 0,
  total_cost_micro INTEGER NOT NULL DEFAULT 0,
  started_at TEXT NOT NULL,
  last_message_at TEXT NOT NULL
);
CREATE INDEX bot_conversations_key ON bot_conversations(bot_id, platform_chat_id, platform_user_id, last_message_at);
CREATE INDEX bot_conversations_recent ON bot_conversations(bot_id, last_message_at);
CREATE INDEX bot_conversations_user ON bot_conversations(bot_id, platform_user_id);
CREATE INDEX bot_conversations_started ON bot_conversations(bot_id, started_at);

CREATE TABLE bot_messages (
  id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,                 -- order within the conversation
  conversation_id TEXT NOT NULL REFERENCES bot_conversations(id) ON DELETE CASCADE,
  bot_id TEXT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
  kind TEXT NOT NULL DEFAULT 'message' CHECK (kind IN ('message', 'welcome', 'fallback')),
  content TEXT NOT NULL,
  reply_to TEXT,                        -- the user message an assistant message answers
  platform_message_id TEXT,
  tool_calls TEXT,                      -- JSON [{ tool, success, latency_ms }]
  tool_count INTEGER NOT NULL DEFAULT 0,
  tokens_input INTEGER NOT NULL DEFAULT 0,
  tokens_output INTEGER NOT NULL DEFAULT 0,
  cost_micro INTEGER NOT NULL DEFAULT 0,
  latency_ms INTEGER,
  loop_iterations INTEGER,
  error TEXT,                           -- why the run failed or did not run (human readable)
  stop_reason TEXT,                     -- run_failed | timeout | spending_cap | quota_exceeded | wallet_empty | missing_key | ...
  billing_mode TEXT,                    -- the bot's billing mode when this message was answered
  created_at TEXT NOT NULL
);
CREATE INDEX bot_messages_conv ON bot_messages(conversation_id, seq);
-- Covering index for analytics and insights: daily rows, stops and totals read no table rows.
CREATE INDEX bot_messages_stats ON bot_messages(bot_id, created_at, role, kind, tool_count, conversation_id,
  tokens_input, tokens_output, cost_micro, latency_ms, stop_reason);

-- plan_quota: tokens used per owner and calendar month (UTC), kept with each recorded answer.
CREATE TABLE bot_quota_usage (
  owner_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  month TEXT NOT NULL,                  -- YYYY-MM
  tokens INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (owner_id, month)
);

-- System templates. Placeholders {{key}} are filled from the setup wizard's config_values.
INSERT INTO bot_templates (id, owner_id, is_system, name, description, category, system_prompt, welcome_message, fallback_message, config_fields, suggested_mcp_servers, created_at, updated_at) VALUES
('tpl_support', NULL, 1, 'Customer Support', 'Answers customer questions about orders, accounts and policies, and hands off to a human when needed.', 'support',
'You are the customer support assistant for {{company_name}}. You help customers with {{product_description}}.

How to work:
- Be friendly, concise and accurate. Answer in the language the customer writes in.
- Use your tools to look things up (orders, accounts, documentation) before answering; never invent order numbers, prices or policies.
- Our refund policy: {{refund_policy}}
- If you cannot solve the problem, or the customer asks for a person, tell them how to reach a human: {{support_email}}. Business hours: {{business_hours}}.
- Never ask for passwords or full card numbers.',
'Hi! I''m the {{company_name}} support assistant. How can I help you today?',
'Sorry, I could not answer that right now. Please try again in a moment, or write to {{support_email}}.',
'[{"key":"company_name","label":"Company name","required":true,"default":"our company"},{"key":"product_description","label":"What you sell or offer","required":false,"default":"our products and services"},{"key":"refund_policy","label":"Refund policy","required":false,"default":"refunds are possible within 30 days of purchase with proof of purchase."},{"key":"support_email","label":"Human support contact","required":false,"default":"our support team"},{"key":"business_hours","label":"Business hours","required":false,"default":"Monday to Friday, 9:00 to 17:00"}]',
'[{"name":"Documentation search","url":"https://mcp.deepwiki.com/mcp","transport":"http","description":"Searches public documentation so answers cite real sources."}]',
'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
('tpl_faq', NULL, 1, 'FAQ Bot', 'Answers frequently asked questions from a fixed knowledge base and says so when it does not know.', 'faq',
'You answer frequently asked questions about {{topic}} for {{organization}}.

Knowledge base:
{{faq_content}}

Rules:
- Answer only from the knowledge base above or from what your tools return. If the answer is not there, say you do not know and suggest {{contact}}.
- Keep answers short: two or three sentences, with a link when the knowledge base has one.
- Do not make promises on behalf of {{organization}}.',
'Hello! Ask me anything about {{topic}}.',
'I could not find an answer right now. Please contact {{contact}}.',
'[{"key":"organization","label":"Organization","required":true,"default":"our organization"},{"key":"topic","label":"Topic","required":false,"default":"our services"},{"key":"faq_content","label":"Questions and answers","required":false,"default":"(no entries yet)"},{"key":"contact","label":"Where to ask a person","required":false,"default":"our team"}]',
'[{"name":"Web fetch","url":"https://remote.mcpservers.org/fetch/mcp","transport":"http","description":"Fetches a public web page so the bot can quote your FAQ page."}]',
'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
('tpl_lead_qualification', NULL, 1, 'Lead Qualification', 'Talks to prospects, asks qualifying questions and summarizes qualified leads for sales.', 'sales',
'You are a sales development assistant for {{company_name}}, which offers {{offering}}.

Your goal is to qualify leads politely, one question at a time:
1. What problem they want to solve.
2. Company size and their role.
3. Budget range (our plans start at {{starting_price}}).
4. Timeline for a decision.

A qualified lead matches: {{ideal_customer_profile}}.
When a lead is qualified, summarize it in one short paragraph (name, company, need, budget, timeline) and offer a call with sales: {{booking_link}}.
If the lead is not a fit, thank them and point them to self-serve resources. Never pressure, never invent discounts.',
'Hi! I''m the {{company_name}} assistant. What brings you here today?',
'Sorry, something went wrong on our side. You can book a call directly: {{booking_link}}',
'[{"key":"company_name","label":"Company name","required":true,"default":"our company"},{"key":"offering","label":"What you offer","required":false,"default":"software for growing teams"},{"key":"starting_price","label":"Starting price","required":false,"default":"a free trial"},{"key":"ideal_customer_profile","label":"Ideal customer profile","required":false,"default":"teams of 10 or more people with a clear need and a budget"},{"key":"booking_link","label":"Booking link","required":false,"default":"our website"}]',
'[]',
'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
('tpl_booking', NULL, 1, 'Booking Assistant', 'Helps customers find a time slot, book, reschedule or cancel appointments.', 'booking',
'You are the booking assistant for {{business_name}} ({{business_type}}).

Opening hours: {{opening_hours}}. Time zone: {{timezone}}. Appointments last {{appointment_length}}.
- Ask for the service, preferred day and time, and the customer''s name and contact.
- Use your tools to check the current time and availability before proposing slots; never confirm a slot you have not checked.
- Repeat the final booking back (service, date, time, name) and ask for confirmation.
- Cancellation policy: {{cancellation_policy}}',
'Hi! I can help you book an appointment at {{business_name}}. What would you like to book?',
'Sorry, I cannot reach the booking system right now. Please call us or try again shortly.',
'[{"key":"business_name","label":"Business name","required":true,"default":"our business"},{"key":"business_type","label":"Kind of business","required":false,"default":"appointments"},{"key":"opening_hours","label":"Opening hours","required":false,"default":"Monday to Saturday, 9:00 to 18:00"},{"key":"timezone","label":"Time zone","required":false,"default":"UTC"},{"key":"appointment_length","label":"Appointment length","required":false,"default":"30 minutes"},{"key":"cancellation_policy","label":"Cancellation policy","required":false,"default":"free cancellation up to 24 hours before the appointment."},{"key":"calendar_mcp_url","label":"Calendar MCP server URL (optional)","required":false,"default":""}]',
'[{"name":"Calendar","url":"{{calendar_mcp_url}}","transport":"http","description":"Your calendar or booking system''s MCP server, to check availability and book slots. Skipped when calendar_mcp_url is empty."}]',
'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'),
('tpl_it_helpdesk', NULL, 1, 'Internal IT Helpdesk', 'Helps employees troubleshoot common IT problems and files tickets for the rest.', 'internal',
'You are the internal IT helpdesk assistant for employees of {{company_name}}.

- Help with common issues: passwords and MFA resets (explain the self-service process at {{self_service_url}}), VPN, Wi-Fi, email, printers, laptop setup and software requests.
- Walk people through fixes step by step and ask what they see after each step.
- Approved software list: {{approved_software}}. Anything else needs a request via {{ticket_system}}.
- Security first: never ask for passwords, never disable security tools, and escalate anything that looks like phishing or a lost device to {{security_contact}} immediately.
- If you cannot fix it in a few steps, summarize the problem so the employee can open a ticket in {{ticket_system}}.',
'Hi! I''m the {{company_name}} IT helpdesk bot. What''s not working?',
'Sorry, I could not process that. Please open a ticket in {{ticket_system}}.',
'[{"key":"company_name","label":"Company name","required":true,"default":"the company"},{"key":"self_service_url","label":"Self-service portal","required":false,"default":"the self-service portal"},{"key":"approved_software","label":"Approved software","required":false,"default":"the standard office suite, the company browser and the chat app"},{"key":"ticket_system","label":"Ticket system","required":false,"default":"the IT ticket system"},{"key":"security_contact","label":"Security contact","required":false,"default":"the security team"}]',
'[{"name":"Documentation search","url":"https://mcp.deepwiki.com/mcp","transport":"http","description":"Searches technical documentation for troubleshooting steps."}]',
'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
