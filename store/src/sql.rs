//! SQL text shared by the back ends: `$N` parameters, `ON CONFLICT … DO UPDATE` and `RETURNING`
//! run unchanged on SQLite and PostgreSQL. Dialect-specific statements live in their back end.

pub const UPSERT_PARTNER: &str = "INSERT INTO partners (id, name) VALUES ($1, $2) \
    ON CONFLICT (id) DO UPDATE SET name = excluded.name";
pub const LIST_PARTNERS: &str = "SELECT id, name FROM partners ORDER BY id";

pub const UPSERT_TENANT: &str = "INSERT INTO tenants (id, partner_id, name, m365_tenant_id, limits) \
    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET partner_id = excluded.partner_id, \
    name = excluded.name, m365_tenant_id = excluded.m365_tenant_id, limits = excluded.limits";
pub const LIST_TENANTS: &str =
    "SELECT id, partner_id, name, m365_tenant_id, limits FROM tenants ORDER BY id";
pub const GET_TENANT: &str =
    "SELECT id, partner_id, name, m365_tenant_id, limits FROM tenants WHERE id = $1";
pub const SEED_OUTCOME_GROUP: &str = "INSERT INTO outcome_groups (tenant_id, id, name) \
    VALUES ($1, $2, $3) ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name";
pub const SEED_OUTCOME: &str = "INSERT INTO outcomes (tenant_id, id, name, group_id, means_handled) \
    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name, \
    group_id = excluded.group_id, means_handled = excluded.means_handled";
pub const LIST_OUTCOME_GROUPS: &str =
    "SELECT id, name FROM outcome_groups WHERE tenant_id = $1 ORDER BY id";
pub const LIST_OUTCOMES: &str = "SELECT id, name, group_id, means_handled FROM outcomes \
    WHERE tenant_id = $1 ORDER BY id";

pub const UPSERT_ORG_UNIT: &str = "INSERT INTO org_units (tenant_id, id, name, parent_id) \
    VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name, \
    parent_id = excluded.parent_id";
pub const LIST_ORG_UNITS: &str = "SELECT tenant_id, id, name, parent_id FROM org_units \
    WHERE tenant_id = $1 ORDER BY id";
pub const DELETE_ORG_UNIT: &str = "DELETE FROM org_units WHERE tenant_id = $1 AND id = $2";

pub const UPSERT_SERVICE: &str = "INSERT INTO services (tenant_id, id, name, display_name, \
    app_instance_id, upn, pstn_number, assignment, distribution, algorithm, policy_id, \
    ring_timeout_secs, sla_secs, max_queue_secs, queue_capacity, acw_enabled, acw_secs, settings) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
    ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name, \
    display_name = excluded.display_name, app_instance_id = excluded.app_instance_id, \
    upn = excluded.upn, pstn_number = excluded.pstn_number, assignment = excluded.assignment, \
    distribution = excluded.distribution, algorithm = excluded.algorithm, \
    policy_id = excluded.policy_id, ring_timeout_secs = excluded.ring_timeout_secs, \
    sla_secs = excluded.sla_secs, max_queue_secs = excluded.max_queue_secs, \
    queue_capacity = excluded.queue_capacity, acw_enabled = excluded.acw_enabled, \
    acw_secs = excluded.acw_secs, settings = excluded.settings";
pub const LIST_SERVICE_SETTINGS: &str =
    "SELECT settings FROM services WHERE tenant_id = $1 ORDER BY id";
pub const DELETE_SERVICE: &str = "DELETE FROM services WHERE tenant_id = $1 AND id = $2";

pub const UPSERT_USER: &str = "INSERT INTO users (tenant_id, id, upn, display_name, \
    active_profile_id, profiles, not_available_reasons, capacity) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, id) DO UPDATE SET \
    upn = excluded.upn, display_name = excluded.display_name, \
    active_profile_id = excluded.active_profile_id, profiles = excluded.profiles, \
    not_available_reasons = excluded.not_available_reasons, capacity = excluded.capacity";
pub const LIST_USERS: &str = "SELECT tenant_id, id, upn, display_name, active_profile_id, \
    profiles, not_available_reasons, capacity FROM users WHERE tenant_id = $1 ORDER BY id";
pub const DELETE_USER: &str = "DELETE FROM users WHERE tenant_id = $1 AND id = $2";
pub const CLEAR_MEMBERSHIPS: &str = "DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2";
pub const INSERT_MEMBERSHIP: &str = "INSERT INTO memberships (tenant_id, user_id, service_id, \
    role, active, position) VALUES ($1, $2, $3, $4, $5, $6)";
pub const LIST_MEMBERSHIPS: &str = "SELECT user_id, service_id, role, active FROM memberships \
    WHERE tenant_id = $1 ORDER BY user_id, position";
pub const CLEAR_USER_SKILLS: &str = "DELETE FROM user_skills WHERE tenant_id = $1 AND user_id = $2";
pub const INSERT_USER_SKILL: &str = "INSERT INTO user_skills (tenant_id, user_id, skill_id, \
    level, position) VALUES ($1, $2, $3, $4, $5)";
pub const LIST_USER_SKILLS: &str = "SELECT user_id, skill_id, level FROM user_skills \
    WHERE tenant_id = $1 ORDER BY user_id, position";

pub const UPSERT_SKILL_CATEGORY: &str = "INSERT INTO skill_categories (tenant_id, id, name, \
    levelled) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, id) DO UPDATE SET \
    name = excluded.name, levelled = excluded.levelled";
pub const LIST_SKILL_CATEGORIES: &str = "SELECT id, name, levelled FROM skill_categories \
    WHERE tenant_id = $1 ORDER BY id";
pub const DELETE_SKILL_CATEGORY: &str =
    "DELETE FROM skill_categories WHERE tenant_id = $1 AND id = $2";
pub const CLEAR_SKILL_LEVELS: &str =
    "DELETE FROM skill_levels WHERE tenant_id = $1 AND category_id = $2";
pub const INSERT_SKILL_LEVEL: &str = "INSERT INTO skill_levels (tenant_id, category_id, value, \
    name, position) VALUES ($1, $2, $3, $4, $5)";
pub const LIST_SKILL_LEVELS: &str = "SELECT category_id, value, name FROM skill_levels \
    WHERE tenant_id = $1 ORDER BY category_id, position";

pub const UPSERT_SKILL: &str = "INSERT INTO skills (tenant_id, id, category_id, name) \
    VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, id) DO UPDATE SET \
    category_id = excluded.category_id, name = excluded.name";
pub const LIST_SKILLS: &str = "SELECT tenant_id, id, category_id, name FROM skills \
    WHERE tenant_id = $1 ORDER BY id";
pub const DELETE_SKILL: &str = "DELETE FROM skills WHERE tenant_id = $1 AND id = $2";

pub const UPSERT_PROFILE: &str = "INSERT INTO responsibility_profiles (tenant_id, id, name, kind, \
    definition) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, id) DO UPDATE SET \
    name = excluded.name, kind = excluded.kind, definition = excluded.definition";
pub const LIST_PROFILES: &str = "SELECT tenant_id, id, name, kind, definition \
    FROM responsibility_profiles WHERE tenant_id = $1 ORDER BY id";
pub const DELETE_PROFILE: &str =
    "DELETE FROM responsibility_profiles WHERE tenant_id = $1 AND id = $2";

pub const UPSERT_POLICY: &str = "INSERT INTO distribution_policies (tenant_id, id, name, levels) \
    VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name, \
    levels = excluded.levels";
pub const LIST_POLICIES: &str = "SELECT tenant_id, id, name, levels FROM distribution_policies \
    WHERE tenant_id = $1 ORDER BY id";
pub const DELETE_POLICY: &str =
    "DELETE FROM distribution_policies WHERE tenant_id = $1 AND id = $2";

pub const UPSERT_NOT_AVAILABLE_REASON: &str = "INSERT INTO not_available_reasons (tenant_id, id, \
    name) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name";
pub const LIST_NOT_AVAILABLE_REASONS: &str = "SELECT tenant_id, id, name \
    FROM not_available_reasons WHERE tenant_id = $1 ORDER BY id";
pub const DELETE_NOT_AVAILABLE_REASON: &str =
    "DELETE FROM not_available_reasons WHERE tenant_id = $1 AND id = $2";

pub const UPSERT_WORKFLOW: &str = "INSERT INTO workflows (tenant_id, id, name, service_id, \
    definition) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, id) DO UPDATE SET \
    name = excluded.name, service_id = excluded.service_id, definition = excluded.definition";
pub const LIST_WORKFLOWS: &str = "SELECT tenant_id, id, name, service_id, definition \
    FROM workflows WHERE tenant_id = $1 ORDER BY id";
pub const DELETE_WORKFLOW: &str = "DELETE FROM workflows WHERE tenant_id = $1 AND id = $2";

pub const UPSERT_OPENING_HOURS: &str = "INSERT INTO opening_hours (tenant_id, id, name, \
    time_zone, schedule) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, id) DO UPDATE SET \
    name = excluded.name, time_zone = excluded.time_zone, schedule = excluded.schedule";
pub const LIST_OPENING_HOURS: &str = "SELECT tenant_id, id, name, time_zone, schedule \
    FROM opening_hours WHERE tenant_id = $1 ORDER BY id";
pub const DELETE_OPENING_HOURS: &str = "DELETE FROM opening_hours WHERE tenant_id = $1 AND id = $2";

pub const UPSERT_PARAMETER: &str = "INSERT INTO parameters (tenant_id, id, description, \
    default_value) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, id) DO UPDATE SET \
    description = excluded.description, default_value = excluded.default_value";
pub const LIST_PARAMETERS: &str = "SELECT tenant_id, id, description, default_value \
    FROM parameters WHERE tenant_id = $1 ORDER BY id";
pub const DELETE_PARAMETER: &str = "DELETE FROM parameters WHERE tenant_id = $1 AND id = $2";

pub const UPSERT_TRIGGER: &str = "INSERT INTO trigger_subscriptions (tenant_id, id, url, events, \
    secret, active) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, id) DO UPDATE SET \
    url = excluded.url, events = excluded.events, secret = excluded.secret, \
    active = excluded.active";
pub const LIST_TRIGGERS: &str = "SELECT tenant_id, id, url, events, secret, active \
    FROM trigger_subscriptions WHERE tenant_id = $1 ORDER BY id";
pub const DELETE_TRIGGER: &str =
    "DELETE FROM trigger_subscriptions WHERE tenant_id = $1 AND id = $2";

pub const ENQUEUE_WEBHOOK: &str = "INSERT INTO webhook_outbox (tenant_id, subscription_id, \
    payload, created_at, attempts, next_attempt_at) VALUES ($1, $2, $3, $4, 0, $4) RETURNING id";
pub const DUE_WEBHOOKS: &str = "SELECT id, tenant_id, subscription_id, payload, created_at, \
    attempts, next_attempt_at, delivered_at, last_error FROM webhook_outbox \
    WHERE tenant_id = $1 AND delivered_at IS NULL AND next_attempt_at <= $2 ORDER BY id LIMIT $3";
pub const WEBHOOK_DELIVERED: &str = "UPDATE webhook_outbox SET delivered_at = $3, \
    attempts = attempts + 1 WHERE tenant_id = $1 AND id = $2";
pub const WEBHOOK_FAILED: &str = "UPDATE webhook_outbox SET attempts = attempts + 1, \
    last_error = $3, next_attempt_at = $4 WHERE tenant_id = $1 AND id = $2";

pub const UPSERT_LIVE_TASK: &str = "INSERT INTO live_tasks (tenant_id, task_id, call_id, \
    service_id, modality, direction, priority, state, created_at, queued_at, connected_user_id, \
    seq, system, context, preferred, customer) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
    ON CONFLICT (tenant_id, task_id) DO UPDATE SET call_id = excluded.call_id, \
    service_id = excluded.service_id, modality = excluded.modality, \
    direction = excluded.direction, priority = excluded.priority, state = excluded.state, \
    created_at = excluded.created_at, queued_at = excluded.queued_at, \
    connected_user_id = excluded.connected_user_id, seq = excluded.seq, system = excluded.system, \
    context = excluded.context, preferred = excluded.preferred, customer = excluded.customer \
    WHERE live_tasks.seq <= excluded.seq";
pub const DELETE_LIVE_TASK: &str = "DELETE FROM live_tasks WHERE tenant_id = $1 AND task_id = $2";
/// The snapshot may lag behind the stored events (it is refreshed only when the restart point
/// changes): a restored task numbers its events after the last stored one, and continues the
/// service session after the last stored one, or its new records would collide and be dropped.
pub const LIST_LIVE_TASKS: &str = "SELECT tenant_id, task_id, call_id, service_id, modality, \
    direction, priority, state, created_at, queued_at, connected_user_id, \
    CASE WHEN (SELECT CAST(COALESCE(MAX(e.seq), 0) AS BIGINT) FROM task_events e \
        WHERE e.tenant_id = live_tasks.tenant_id AND e.task_id = live_tasks.task_id) > seq \
    THEN (SELECT CAST(COALESCE(MAX(e.seq), 0) AS BIGINT) FROM task_events e \
        WHERE e.tenant_id = live_tasks.tenant_id AND e.task_id = live_tasks.task_id) \
    ELSE seq END AS seq, \
    system, context, preferred, customer, \
    (SELECT CAST(COALESCE(MAX(s.session_index) + 1, 0) AS BIGINT) FROM service_sessions s \
        WHERE s.tenant_id = live_tasks.tenant_id AND s.task_id = live_tasks.task_id) AS next_session \
    FROM live_tasks WHERE tenant_id = $1 ORDER BY created_at, task_id";

// Events and facts are written with DO NOTHING: the writer retries a batch whose outcome it
// could not see (connection lost at commit), and the retry must neither fail nor duplicate.
/// Row by row, for SQLite; PostgreSQL sends a whole batch as arrays (see `postgres.rs`).
pub const INSERT_TASK_EVENT: &str = "INSERT INTO task_events (tenant_id, task_id, seq, at, kind, \
    from_state, to_state, service_id, user_id, offer_id, outcome_id, parameter_id, \
    parameter_value) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
    ON CONFLICT (tenant_id, task_id, seq) DO NOTHING";
pub const LIST_TASK_EVENTS: &str = "SELECT tenant_id, task_id, seq, at, kind, from_state, \
    to_state, service_id, user_id, offer_id, outcome_id, parameter_id, parameter_value \
    FROM task_events WHERE tenant_id = $1 AND task_id = $2 ORDER BY seq";

pub const INSERT_SERVICE_SESSION: &str = "INSERT INTO service_sessions (tenant_id, task_id, \
    session_index, service_id, modality, direction, started_at, ended_at, outcome_id, ivr_ms, \
    queue_ms, connected_ms, hold_ms, hold_count, acw_ms, under_sla, policy_level, user_id) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
    ON CONFLICT (tenant_id, task_id, session_index) DO NOTHING";
pub const LIST_SERVICE_SESSIONS: &str = "SELECT tenant_id, task_id, session_index, \
    service_id, modality, direction, started_at, ended_at, outcome_id, ivr_ms, queue_ms, \
    connected_ms, hold_ms, hold_count, acw_ms, under_sla, policy_level, user_id \
    FROM service_sessions WHERE tenant_id = $1 ORDER BY started_at, task_id, session_index";
pub const LIST_SERVICE_SESSIONS_OF_TASK: &str = "SELECT tenant_id, task_id, session_index, \
    service_id, modality, direction, started_at, ended_at, outcome_id, ivr_ms, queue_ms, \
    connected_ms, hold_ms, hold_count, acw_ms, under_sla, policy_level, user_id \
    FROM service_sessions WHERE tenant_id = $1 AND task_id = $2 ORDER BY session_index";

/// Folds one new service session into its task's unified session (first service and start by
/// the earliest session, last service, end and outcome by the latest).
pub const UPSERT_UNIFIED_SESSION: &str = "INSERT INTO unified_sessions (tenant_id, task_id, \
    modality, direction, first_service_id, last_service_id, started_at, ended_at, outcome_id, \
    service_session_count) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, 1) \
    ON CONFLICT (tenant_id, task_id) DO UPDATE SET \
    first_service_id = CASE WHEN excluded.started_at < unified_sessions.started_at \
        THEN excluded.first_service_id ELSE unified_sessions.first_service_id END, \
    started_at = CASE WHEN excluded.started_at < unified_sessions.started_at \
        THEN excluded.started_at ELSE unified_sessions.started_at END, \
    last_service_id = CASE WHEN excluded.ended_at >= unified_sessions.ended_at \
        THEN excluded.last_service_id ELSE unified_sessions.last_service_id END, \
    outcome_id = CASE WHEN excluded.ended_at >= unified_sessions.ended_at \
        THEN excluded.outcome_id ELSE unified_sessions.outcome_id END, \
    ended_at = CASE WHEN excluded.ended_at >= unified_sessions.ended_at \
        THEN excluded.ended_at ELSE unified_sessions.ended_at END, \
    service_session_count = unified_sessions.service_session_count + 1";
pub const LIST_UNIFIED_SESSIONS: &str = "SELECT tenant_id, task_id, modality, direction, \
    first_service_id, last_service_id, started_at, ended_at, outcome_id, service_session_count \
    FROM unified_sessions WHERE tenant_id = $1 ORDER BY started_at, task_id";
pub const LIST_UNIFIED_SESSIONS_OF_TASK: &str = "SELECT tenant_id, task_id, modality, direction, \
    first_service_id, last_service_id, started_at, ended_at, outcome_id, service_session_count \
    FROM unified_sessions WHERE tenant_id = $1 AND task_id = $2";

pub const INSERT_USER_SESSION: &str = "INSERT INTO user_sessions (tenant_id, task_id, offer_id, \
    user_id, service_id, offered_at, ended_at, outcome, policy_level, connected_ms) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
    ON CONFLICT (tenant_id, task_id, offer_id, user_id) DO NOTHING";
pub const LIST_USER_SESSIONS: &str = "SELECT tenant_id, task_id, offer_id, user_id, service_id, \
    offered_at, ended_at, outcome, policy_level, connected_ms FROM user_sessions \
    WHERE tenant_id = $1 ORDER BY offered_at, task_id, offer_id";
pub const LIST_USER_SESSIONS_OF_TASK: &str = "SELECT tenant_id, task_id, offer_id, user_id, \
    service_id, offered_at, ended_at, outcome, policy_level, connected_ms FROM user_sessions \
    WHERE tenant_id = $1 AND task_id = $2 ORDER BY offered_at, offer_id";

pub const INSERT_USER_STATE: &str = "INSERT INTO user_state_intervals (tenant_id, user_id, \
    started_at, ended_at, state) VALUES ($1, $2, $3, $4, $5) \
    ON CONFLICT (tenant_id, user_id, started_at) DO NOTHING";
pub const LIST_USER_STATES: &str = "SELECT tenant_id, user_id, started_at, ended_at, state \
    FROM user_state_intervals WHERE tenant_id = $1 AND started_at < $3 AND ended_at > $2 \
    ORDER BY started_at, user_id";
pub const LIST_USER_STATES_OF_USER: &str = "SELECT tenant_id, user_id, started_at, ended_at, \
    state FROM user_state_intervals WHERE tenant_id = $1 AND user_id = $4 AND started_at < $3 \
    AND ended_at > $2 ORDER BY started_at";

/// Retention: context parameter values of tasks that ended before `$1` are forgotten; which
/// parameter changed, and every reporting fact, stay.
pub const PURGE_CONTEXT: &str = "UPDATE task_events SET parameter_value = NULL \
    WHERE parameter_value IS NOT NULL AND EXISTS (SELECT 1 FROM task_events t \
    WHERE t.tenant_id = task_events.tenant_id AND t.task_id = task_events.task_id \
    AND t.kind = 'Terminated' AND t.at < $1)";
