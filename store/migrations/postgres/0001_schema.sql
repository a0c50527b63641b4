-- Stratus schema (PostgreSQL). Keep in lock-step with ../sqlite: same files, same versions.
-- Ids are GUID text, times are Unix epoch milliseconds, JSON is jsonb. Every row but a partner's
-- carries its tenant; keys start with the tenant so one tenant's ids can never touch another's rows.

CREATE TABLE partners (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    partner_id TEXT,
    name TEXT NOT NULL,
    m365_tenant_id TEXT NOT NULL,
    limits JSONB NOT NULL
);
CREATE INDEX tenants_m365 ON tenants (m365_tenant_id);

CREATE TABLE outcome_groups (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE outcomes (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    group_id BIGINT NOT NULL,
    means_handled BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES outcome_groups (tenant_id, id)
);

CREATE TABLE org_units (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    parent_id TEXT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES org_units (tenant_id, id)
);

CREATE TABLE skill_categories (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    levelled BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE skill_levels (
    tenant_id TEXT NOT NULL,
    category_id TEXT NOT NULL,
    value BIGINT NOT NULL CHECK (value BETWEEN 0 AND 255),
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, category_id, value),
    FOREIGN KEY (tenant_id, category_id) REFERENCES skill_categories (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE skills (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    category_id TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, category_id) REFERENCES skill_categories (tenant_id, id)
);

CREATE TABLE responsibility_profiles (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    definition JSONB NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE distribution_policies (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    levels JSONB NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE not_available_reasons (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Key settings are columns (for filtering and reporting); `settings` holds the whole
-- configuration, which is what routing loads.
CREATE TABLE services (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    app_instance_id TEXT,
    upn TEXT,
    pstn_number TEXT,
    assignment TEXT NOT NULL,
    distribution TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    policy_id TEXT,
    ring_timeout_secs BIGINT NOT NULL,
    sla_secs BIGINT NOT NULL,
    max_queue_secs BIGINT NOT NULL,
    queue_capacity BIGINT NOT NULL,
    acw_enabled BOOLEAN NOT NULL,
    acw_secs BIGINT NOT NULL,
    settings JSONB NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, policy_id) REFERENCES distribution_policies (tenant_id, id)
);
CREATE INDEX services_app_instance ON services (app_instance_id);

CREATE TABLE users (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    upn TEXT NOT NULL,
    display_name TEXT NOT NULL,
    active_profile_id TEXT NOT NULL,
    profiles JSONB NOT NULL,
    not_available_reasons JSONB NOT NULL,
    capacity JSONB NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE memberships (
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    service_id TEXT NOT NULL,
    role TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, service_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, service_id) REFERENCES services (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX memberships_service ON memberships (tenant_id, service_id);

CREATE TABLE user_skills (
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    skill_id TEXT NOT NULL,
    level BIGINT NOT NULL CHECK (level BETWEEN 0 AND 255),
    position BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, skill_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, skill_id) REFERENCES skills (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE workflows (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    service_id TEXT,
    definition TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE opening_hours (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    schedule TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE parameters (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    description TEXT NOT NULL,
    default_value TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE trigger_subscriptions (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    url TEXT NOT NULL,
    events JSONB NOT NULL,
    secret TEXT,
    active BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE webhook_outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error TEXT,
    FOREIGN KEY (tenant_id, subscription_id) REFERENCES trigger_subscriptions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (tenant_id, next_attempt_at) WHERE delivered_at IS NULL;

-- Enough of a live task to re-queue it after a restart. External data goes with the row when the
-- task ends.
CREATE TABLE live_tasks (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    task_id TEXT NOT NULL,
    call_id TEXT,
    service_id TEXT,
    modality TEXT NOT NULL,
    direction TEXT NOT NULL,
    priority TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    queued_at BIGINT,
    connected_user_id TEXT,
    seq BIGINT NOT NULL,
    system JSONB NOT NULL,
    context JSONB NOT NULL,
    preferred JSONB NOT NULL,
    customer JSONB NOT NULL,
    PRIMARY KEY (tenant_id, task_id)
);

CREATE TABLE task_events (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    task_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    service_id TEXT,
    user_id TEXT,
    offer_id BIGINT,
    outcome_id BIGINT,
    parameter_id TEXT,
    parameter_value TEXT,
    PRIMARY KEY (tenant_id, task_id, seq)
);
CREATE INDEX task_events_kind_at ON task_events (kind, at);

-- Reporting facts: kept forever (retention purges context data only).
CREATE TABLE unified_sessions (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    task_id TEXT NOT NULL,
    modality TEXT NOT NULL,
    direction TEXT NOT NULL,
    first_service_id TEXT NOT NULL,
    last_service_id TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT NOT NULL,
    outcome_id BIGINT NOT NULL,
    service_session_count BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, task_id),
    FOREIGN KEY (tenant_id, outcome_id) REFERENCES outcomes (tenant_id, id)
);

CREATE TABLE service_sessions (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    task_id TEXT NOT NULL,
    session_index BIGINT NOT NULL,
    service_id TEXT NOT NULL,
    modality TEXT NOT NULL,
    direction TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT NOT NULL,
    outcome_id BIGINT NOT NULL,
    ivr_ms BIGINT NOT NULL,
    queue_ms BIGINT NOT NULL,
    connected_ms BIGINT NOT NULL,
    hold_ms BIGINT NOT NULL,
    hold_count BIGINT NOT NULL,
    acw_ms BIGINT NOT NULL,
    under_sla BOOLEAN NOT NULL,
    policy_level BIGINT,
    user_id TEXT,
    PRIMARY KEY (tenant_id, task_id, session_index),
    FOREIGN KEY (tenant_id, outcome_id) REFERENCES outcomes (tenant_id, id)
);
CREATE INDEX service_sessions_started ON service_sessions (tenant_id, started_at);

CREATE TABLE user_sessions (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    task_id TEXT NOT NULL,
    offer_id BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    service_id TEXT NOT NULL,
    offered_at BIGINT NOT NULL,
    ended_at BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    policy_level BIGINT,
    connected_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, task_id, offer_id, user_id)
);
CREATE INDEX user_sessions_user ON user_sessions (tenant_id, user_id, offered_at);

CREATE TABLE user_state_intervals (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, started_at)
);
