//! SQLite back end, the default: one file, WAL, a single writer connection and a pool of readers.

use crate::error::{db, found};
use crate::rows::*;
use crate::sql;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::types::Json;
use std::str::FromStr;
use std::time::Duration;
use stratus_routing::config::values::ParameterId;
use stratus_routing::config::{
    DistributionPolicy, NotAvailableReason, OrgUnit, ResponsibilityProfile, ServiceConfig, Skill,
    SkillCategory, Tenant, UserConfig,
};
use stratus_routing::facts::{ServiceSessionFact, UserSessionFact, UserStateInterval};
use stratus_routing::ids::{
    Guid, NotAvailableReasonId, OrgUnitId, PolicyId, ProfileId, ServiceId, SkillCategoryId,
    SkillId, TaskId, TenantId, UserId, WorkflowId,
};
use stratus_routing::port::{
    AdminStore, BoxFuture, LiveTaskSnapshot, OpeningHours, ParameterDefinition, Partner,
    ReportingStore, Store, StoreError, StoredOutcome, StoredOutcomeGroup, TenantSnapshot,
    TriggerSubscription, UnifiedSession, WebhookDelivery, Workflow,
};
use stratus_routing::task::TaskEvent;
use stratus_routing::time::Instant;

pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// Readers besides the single writer connection.
const READERS: u32 = 4;

/// The SQLite store. SQLite allows one writer at a time, so every write goes through one
/// connection (callers queue for it) and reads use their own pool, which WAL lets run alongside.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
}

/// `sql::PURGE_CONTEXT`, 1,000 rows at a time.
const PURGE_CONTEXT_CHUNK: &str = "UPDATE task_events SET parameter_value = NULL \
    WHERE rowid IN (SELECT e.rowid FROM task_events e WHERE e.parameter_value IS NOT NULL \
    AND EXISTS (SELECT 1 FROM task_events t WHERE t.tenant_id = e.tenant_id \
    AND t.task_id = e.task_id AND t.kind = 'Terminated' AND t.at < $1) LIMIT 1000)";

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `url_or_path`: a `sqlite:` URL
    /// (`sqlite://stratus.db`, `sqlite::memory:`) or a plain file path.
    pub async fn open(url_or_path: &str) -> Result<Self, StoreError> {
        let in_memory = url_or_path.contains(":memory:") || url_or_path.contains("mode=memory");
        let options = if url_or_path.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url_or_path).map_err(db)?
        } else {
            SqliteConnectOptions::new().filename(url_or_path)
        };
        let options = options
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            // An in-memory database lives and dies with its one connection.
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options.clone())
            .await
            .map_err(db)?;
        MIGRATOR
            .run(&write)
            .await
            .map_err(|e| StoreError::Other(e.to_string()))?;
        // Each connection to `:memory:` is a database of its own: there, readers share the writer.
        let read = if in_memory {
            write.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(READERS)
                .connect_with(options.read_only(true))
                .await
                .map_err(db)?
        };
        let store = SqliteStore { write, read };
        store.seed_all_outcomes().await?;
        Ok(store)
    }

    /// Closes both pools (waits for running queries).
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    /// Gives every tenant the outcomes of this version (ones added since it was saved too).
    async fn seed_all_outcomes(&self) -> Result<(), StoreError> {
        let tenants: Vec<String> = sqlx::query_scalar("SELECT id FROM tenants")
            .fetch_all(&self.write)
            .await
            .map_err(db)?;
        let mut tx = self.write.begin().await.map_err(db)?;
        for tenant in tenants {
            seed_outcomes(&mut tx, &tenant).await?;
        }
        tx.commit().await.map_err(db)
    }

    async fn list_tenants_(&self) -> Result<Vec<Tenant>, StoreError> {
        let rows: Vec<TenantRow> = sqlx::query_as(sql::LIST_TENANTS)
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        all(rows, TenantRow::into_domain)
    }

    async fn save_tenant_(&self, t: Tenant) -> Result<(), StoreError> {
        let r = TenantRow::of(&t);
        let mut tx = self.write.begin().await.map_err(db)?;
        sqlx::query(sql::UPSERT_TENANT)
            .bind(&r.id)
            .bind(r.partner_id)
            .bind(r.name)
            .bind(r.m365_tenant_id)
            .bind(r.limits)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        seed_outcomes(&mut tx, &r.id).await?;
        tx.commit().await.map_err(db)
    }

    async fn load_tenant_(&self, tenant: TenantId) -> Result<TenantSnapshot, StoreError> {
        let t = tenant.to_string();
        // One read transaction: a snapshot, so a concurrent save is seen whole or not at all.
        let mut tx = self.read.begin().await.map_err(db)?;
        let row: Option<TenantRow> = sqlx::query_as(sql::GET_TENANT)
            .bind(&t)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
        let Some(row) = row else {
            return Err(StoreError::NotFound {
                entity: "tenant",
                id: t,
            });
        };
        let services: Vec<Json<ServiceConfig>> = sqlx::query_scalar(sql::LIST_SERVICE_SETTINGS)
            .bind(&t)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        let users: Vec<UserRow> = sqlx::query_as(sql::LIST_USERS)
            .bind(&t)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        let memberships: Vec<MembershipRow> = sqlx::query_as(sql::LIST_MEMBERSHIPS)
            .bind(&t)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        let user_skills: Vec<UserSkillRow> = sqlx::query_as(sql::LIST_USER_SKILLS)
            .bind(&t)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        let categories: Vec<SkillCategoryRow> = sqlx::query_as(sql::LIST_SKILL_CATEGORIES)
            .bind(&t)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        let levels: Vec<SkillLevelRow> = sqlx::query_as(sql::LIST_SKILL_LEVELS)
            .bind(&t)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        let skills: Vec<SkillRow> = sqlx::query_as(sql::LIST_SKILLS)
            .bind(&t)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        let profiles: Vec<ProfileRow> = sqlx::query_as(sql::LIST_PROFILES)
            .bind(&t)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        let policies: Vec<PolicyRow> = sqlx::query_as(sql::LIST_POLICIES)
            .bind(&t)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        let reasons: Vec<NotAvailableReasonRow> = sqlx::query_as(sql::LIST_NOT_AVAILABLE_REASONS)
            .bind(&t)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(TenantSnapshot {
            tenant: row.into_domain()?,
            services: services.into_iter().map(|s| s.0).collect(),
            users: assemble_users(users, memberships, user_skills)?,
            skill_categories: assemble_categories(tenant, categories, levels)?,
            skills: all(skills, SkillRow::into_domain)?,
            profiles: all(profiles, ProfileRow::into_domain)?,
            policies: all(policies, PolicyRow::into_domain)?,
            not_available_reasons: all(reasons, NotAvailableReasonRow::into_domain)?,
        })
    }

    async fn save_service_(&self, s: ServiceConfig) -> Result<(), StoreError> {
        let r = ServiceRow::of(&s)?;
        sqlx::query(sql::UPSERT_SERVICE)
            .bind(r.tenant_id)
            .bind(r.id)
            .bind(r.name)
            .bind(r.display_name)
            .bind(r.app_instance_id)
            .bind(r.upn)
            .bind(r.pstn_number)
            .bind(r.assignment)
            .bind(r.distribution)
            .bind(r.algorithm)
            .bind(r.policy_id)
            .bind(r.ring_timeout_secs)
            .bind(r.sla_secs)
            .bind(r.max_queue_secs)
            .bind(r.queue_capacity)
            .bind(r.acw_enabled)
            .bind(r.acw_secs)
            .bind(r.settings)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    /// Runs a keyed delete; `NotFound` when nothing matched.
    async fn delete(
        &self,
        statement: &'static str,
        entity: &'static str,
        tenant: TenantId,
        id: String,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(statement)
            .bind(tenant.to_string())
            .bind(&id)
            .execute(&self.write)
            .await
            .map_err(db)?;
        found(done.rows_affected(), entity, id)
    }

    async fn save_user_(&self, u: UserConfig) -> Result<(), StoreError> {
        let r = UserRow::of(&u);
        let memberships = membership_rows(&u)?;
        let mut tx = self.write.begin().await.map_err(db)?;
        sqlx::query(sql::UPSERT_USER)
            .bind(&r.tenant_id)
            .bind(&r.id)
            .bind(r.upn)
            .bind(r.display_name)
            .bind(r.active_profile_id)
            .bind(r.profiles)
            .bind(r.not_available_reasons)
            .bind(r.capacity)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        for statement in [sql::CLEAR_MEMBERSHIPS, sql::CLEAR_USER_SKILLS] {
            sqlx::query(statement)
                .bind(&r.tenant_id)
                .bind(&r.id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        for (position, (service, role, active)) in (0_i64..).zip(memberships) {
            sqlx::query(sql::INSERT_MEMBERSHIP)
                .bind(&r.tenant_id)
                .bind(&r.id)
                .bind(service)
                .bind(role)
                .bind(active)
                .bind(position)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        for (position, skill) in (0_i64..).zip(&u.skills) {
            sqlx::query(sql::INSERT_USER_SKILL)
                .bind(&r.tenant_id)
                .bind(&r.id)
                .bind(skill.skill.to_string())
                .bind(i64::from(skill.level))
                .bind(position)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn save_skill_category_(&self, c: SkillCategory) -> Result<(), StoreError> {
        let (tenant, id) = (c.tenant.to_string(), c.id.to_string());
        let mut tx = self.write.begin().await.map_err(db)?;
        sqlx::query(sql::UPSERT_SKILL_CATEGORY)
            .bind(&tenant)
            .bind(&id)
            .bind(&c.name)
            .bind(c.levelled)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        sqlx::query(sql::CLEAR_SKILL_LEVELS)
            .bind(&tenant)
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        for (position, level) in (0_i64..).zip(&c.levels) {
            sqlx::query(sql::INSERT_SKILL_LEVEL)
                .bind(&tenant)
                .bind(&id)
                .bind(i64::from(level.value))
                .bind(&level.name)
                .bind(position)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn save_skill_(&self, s: Skill) -> Result<(), StoreError> {
        let r = SkillRow::of(&s);
        sqlx::query(sql::UPSERT_SKILL)
            .bind(r.tenant_id)
            .bind(r.id)
            .bind(r.category_id)
            .bind(r.name)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn save_profile_(&self, p: ResponsibilityProfile) -> Result<(), StoreError> {
        let r = ProfileRow::of(&p);
        sqlx::query(sql::UPSERT_PROFILE)
            .bind(r.tenant_id)
            .bind(r.id)
            .bind(r.name)
            .bind(r.kind)
            .bind(r.definition)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn save_policy_(&self, p: DistributionPolicy) -> Result<(), StoreError> {
        let r = PolicyRow::of(&p);
        sqlx::query(sql::UPSERT_POLICY)
            .bind(r.tenant_id)
            .bind(r.id)
            .bind(r.name)
            .bind(r.levels)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn save_not_available_reason_(&self, n: NotAvailableReason) -> Result<(), StoreError> {
        let r = NotAvailableReasonRow::of(&n);
        sqlx::query(sql::UPSERT_NOT_AVAILABLE_REASON)
            .bind(r.tenant_id)
            .bind(r.id)
            .bind(r.name)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn snapshot_live_task_(&self, t: LiveTaskSnapshot) -> Result<(), StoreError> {
        let r = LiveTaskRow::of(&t)?;
        sqlx::query(sql::UPSERT_LIVE_TASK)
            .bind(r.tenant_id)
            .bind(r.task_id)
            .bind(r.call_id)
            .bind(r.service_id)
            .bind(r.modality)
            .bind(r.direction)
            .bind(r.priority)
            .bind(r.state)
            .bind(r.created_at)
            .bind(r.queued_at)
            .bind(r.connected_user_id)
            .bind(r.seq)
            .bind(r.system)
            .bind(r.context)
            .bind(r.preferred)
            .bind(r.customer)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn remove_live_task_(&self, tenant: TenantId, task: TaskId) -> Result<(), StoreError> {
        // Idempotent: the task may never have been snapshotted.
        sqlx::query(sql::DELETE_LIVE_TASK)
            .bind(tenant.to_string())
            .bind(task.to_string())
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn load_live_tasks_(
        &self,
        tenant: TenantId,
    ) -> Result<Vec<LiveTaskSnapshot>, StoreError> {
        let rows: Vec<LiveTaskRow> = sqlx::query_as(sql::LIST_LIVE_TASKS)
            .bind(tenant.to_string())
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        all(rows, LiveTaskRow::into_domain)
    }

    async fn append_events_(&self, events: Vec<TaskEvent>) -> Result<(), StoreError> {
        let rows = all(events, |e| TaskEventRow::of(&e))?;
        let mut tx = self.write.begin().await.map_err(db)?;
        for r in rows {
            sqlx::query(sql::INSERT_TASK_EVENT)
                .bind(r.tenant_id)
                .bind(r.task_id)
                .bind(r.seq)
                .bind(r.at)
                .bind(r.kind)
                .bind(r.from_state)
                .bind(r.to_state)
                .bind(r.service_id)
                .bind(r.user_id)
                .bind(r.offer_id)
                .bind(r.outcome_id)
                .bind(r.parameter_id)
                .bind(r.parameter_value)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn task_events_(
        &self,
        tenant: TenantId,
        task: TaskId,
    ) -> Result<Vec<TaskEvent>, StoreError> {
        let rows: Vec<TaskEventRow> = sqlx::query_as(sql::LIST_TASK_EVENTS)
            .bind(tenant.to_string())
            .bind(task.to_string())
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        all(rows, TaskEventRow::into_domain)
    }

    async fn record_service_sessions_(
        &self,
        facts: Vec<ServiceSessionFact>,
    ) -> Result<(), StoreError> {
        let rows = all(facts, |f| ServiceSessionRow::of(&f))?;
        let mut tx = self.write.begin().await.map_err(db)?;
        for r in rows {
            let inserted = sqlx::query(sql::INSERT_SERVICE_SESSION)
                .bind(&r.tenant_id)
                .bind(&r.task_id)
                .bind(r.session_index)
                .bind(&r.service_id)
                .bind(&r.modality)
                .bind(&r.direction)
                .bind(r.started_at)
                .bind(r.ended_at)
                .bind(r.outcome_id)
                .bind(r.ivr_ms)
                .bind(r.queue_ms)
                .bind(r.connected_ms)
                .bind(r.hold_ms)
                .bind(r.hold_count)
                .bind(r.acw_ms)
                .bind(r.under_sla)
                .bind(r.policy_level)
                .bind(&r.user_id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            // A replayed fact was already folded into its unified session.
            if inserted.rows_affected() == 0 {
                continue;
            }
            sqlx::query(sql::UPSERT_UNIFIED_SESSION)
                .bind(r.tenant_id)
                .bind(r.task_id)
                .bind(r.modality)
                .bind(r.direction)
                .bind(r.service_id)
                .bind(r.started_at)
                .bind(r.ended_at)
                .bind(r.outcome_id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn record_user_sessions_(&self, facts: Vec<UserSessionFact>) -> Result<(), StoreError> {
        let rows = all(facts, |f| UserSessionRow::of(&f))?;
        let mut tx = self.write.begin().await.map_err(db)?;
        for r in rows {
            sqlx::query(sql::INSERT_USER_SESSION)
                .bind(r.tenant_id)
                .bind(r.task_id)
                .bind(r.offer_id)
                .bind(r.user_id)
                .bind(r.service_id)
                .bind(r.offered_at)
                .bind(r.ended_at)
                .bind(r.outcome)
                .bind(r.policy_level)
                .bind(r.connected_ms)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn record_user_states_(&self, facts: Vec<UserStateInterval>) -> Result<(), StoreError> {
        let rows = all(facts, |f| UserStateRow::of(&f))?;
        let mut tx = self.write.begin().await.map_err(db)?;
        for r in rows {
            sqlx::query(sql::INSERT_USER_STATE)
                .bind(r.tenant_id)
                .bind(r.user_id)
                .bind(r.started_at)
                .bind(r.ended_at)
                .bind(r.state)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn service_sessions_(
        &self,
        tenant: TenantId,
        task: Option<TaskId>,
    ) -> Result<Vec<ServiceSessionFact>, StoreError> {
        let q = match task {
            Some(task) => sqlx::query_as(sql::LIST_SERVICE_SESSIONS_OF_TASK)
                .bind(tenant.to_string())
                .bind(task.to_string()),
            None => sqlx::query_as(sql::LIST_SERVICE_SESSIONS).bind(tenant.to_string()),
        };
        let rows: Vec<ServiceSessionRow> = q.fetch_all(&self.read).await.map_err(db)?;
        all(rows, ServiceSessionRow::into_domain)
    }

    async fn user_sessions_(
        &self,
        tenant: TenantId,
        task: Option<TaskId>,
    ) -> Result<Vec<UserSessionFact>, StoreError> {
        let q = match task {
            Some(task) => sqlx::query_as(sql::LIST_USER_SESSIONS_OF_TASK)
                .bind(tenant.to_string())
                .bind(task.to_string()),
            None => sqlx::query_as(sql::LIST_USER_SESSIONS).bind(tenant.to_string()),
        };
        let rows: Vec<UserSessionRow> = q.fetch_all(&self.read).await.map_err(db)?;
        all(rows, UserSessionRow::into_domain)
    }

    /// In chunks: SQLite has one writer, and one long UPDATE would hold every other write
    /// (the batched writer's included) for its whole length.
    async fn purge_context_(&self, before: Instant) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let done = sqlx::query(PURGE_CONTEXT_CHUNK)
                .bind(crate::codec::ms(before))
                .execute(&self.write)
                .await
                .map_err(db)?;
            total += done.rows_affected();
            if done.rows_affected() == 0 {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }

    // --- AdminStore ---

    async fn save_partner_(&self, p: Partner) -> Result<(), StoreError> {
        let r = PartnerRow::of(&p);
        sqlx::query(sql::UPSERT_PARTNER)
            .bind(r.id)
            .bind(r.name)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn list_partners_(&self) -> Result<Vec<Partner>, StoreError> {
        let rows: Vec<PartnerRow> = sqlx::query_as(sql::LIST_PARTNERS)
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        all(rows, PartnerRow::into_domain)
    }

    async fn save_org_unit_(&self, u: OrgUnit) -> Result<(), StoreError> {
        let r = OrgUnitRow::of(&u);
        sqlx::query(sql::UPSERT_ORG_UNIT)
            .bind(r.tenant_id)
            .bind(r.id)
            .bind(r.name)
            .bind(r.parent_id)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn save_workflow_(&self, w: Workflow) -> Result<(), StoreError> {
        let r = WorkflowRow::of(&w);
        sqlx::query(sql::UPSERT_WORKFLOW)
            .bind(r.tenant_id)
            .bind(r.id)
            .bind(r.name)
            .bind(r.service_id)
            .bind(r.definition)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn save_opening_hours_(&self, h: OpeningHours) -> Result<(), StoreError> {
        let r = OpeningHoursRow::of(&h);
        sqlx::query(sql::UPSERT_OPENING_HOURS)
            .bind(r.tenant_id)
            .bind(r.id)
            .bind(r.name)
            .bind(r.time_zone)
            .bind(r.schedule)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn save_parameter_(&self, p: ParameterDefinition) -> Result<(), StoreError> {
        let r = ParameterRow::of(&p);
        sqlx::query(sql::UPSERT_PARAMETER)
            .bind(r.tenant_id)
            .bind(r.id)
            .bind(r.description)
            .bind(r.default_value)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn save_trigger_subscription_(&self, s: TriggerSubscription) -> Result<(), StoreError> {
        let r = TriggerRow::of(&s);
        sqlx::query(sql::UPSERT_TRIGGER)
            .bind(r.tenant_id)
            .bind(r.id)
            .bind(r.url)
            .bind(r.events)
            .bind(r.secret)
            .bind(r.active)
            .execute(&self.write)
            .await
            .map_err(db)?;
        Ok(())
    }

    /// Lists one tenant's rows of a simple entity table.
    async fn list<R>(&self, statement: &'static str, tenant: TenantId) -> Result<Vec<R>, StoreError>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin,
    {
        sqlx::query_as(statement)
            .bind(tenant.to_string())
            .fetch_all(&self.read)
            .await
            .map_err(db)
    }

    async fn enqueue_webhook_(
        &self,
        tenant: TenantId,
        subscription: Guid,
        payload: String,
        now: Instant,
    ) -> Result<u64, StoreError> {
        let id: i64 = sqlx::query_scalar(sql::ENQUEUE_WEBHOOK)
            .bind(tenant.to_string())
            .bind(subscription.to_string())
            .bind(payload)
            .bind(crate::codec::ms(now))
            .fetch_one(&self.write)
            .await
            .map_err(db)?;
        Ok(crate::codec::uint(id))
    }

    async fn due_webhooks_(
        &self,
        tenant: TenantId,
        now: Instant,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let rows: Vec<OutboxRow> = sqlx::query_as(sql::DUE_WEBHOOKS)
            .bind(tenant.to_string())
            .bind(crate::codec::ms(now))
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await
            .map_err(db)?;
        all(rows, OutboxRow::into_domain)
    }

    async fn webhook_delivered_(
        &self,
        tenant: TenantId,
        id: u64,
        at: Instant,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::WEBHOOK_DELIVERED)
            .bind(tenant.to_string())
            .bind(crate::codec::int(id))
            .bind(crate::codec::ms(at))
            .execute(&self.write)
            .await
            .map_err(db)?;
        found(done.rows_affected(), "webhook delivery", id)
    }

    async fn webhook_failed_(
        &self,
        tenant: TenantId,
        id: u64,
        error: String,
        retry_at: Instant,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(sql::WEBHOOK_FAILED)
            .bind(tenant.to_string())
            .bind(crate::codec::int(id))
            .bind(error)
            .bind(crate::codec::ms(retry_at))
            .execute(&self.write)
            .await
            .map_err(db)?;
        found(done.rows_affected(), "webhook delivery", id)
    }

    // --- ReportingStore ---

    async fn user_states_(
        &self,
        tenant: TenantId,
        user: Option<UserId>,
        from: Instant,
        to: Instant,
    ) -> Result<Vec<UserStateInterval>, StoreError> {
        let statement = if user.is_some() {
            sql::LIST_USER_STATES_OF_USER
        } else {
            sql::LIST_USER_STATES
        };
        let mut q = sqlx::query_as(statement)
            .bind(tenant.to_string())
            .bind(crate::codec::ms(from))
            .bind(crate::codec::ms(to));
        if let Some(user) = user {
            q = q.bind(user.to_string());
        }
        let rows: Vec<UserStateRow> = q.fetch_all(&self.read).await.map_err(db)?;
        all(rows, UserStateRow::into_domain)
    }

    async fn unified_sessions_(
        &self,
        tenant: TenantId,
        task: Option<TaskId>,
    ) -> Result<Vec<UnifiedSession>, StoreError> {
        let q = match task {
            Some(task) => sqlx::query_as(sql::LIST_UNIFIED_SESSIONS_OF_TASK)
                .bind(tenant.to_string())
                .bind(task.to_string()),
            None => sqlx::query_as(sql::LIST_UNIFIED_SESSIONS).bind(tenant.to_string()),
        };
        let rows: Vec<UnifiedSessionRow> = q.fetch_all(&self.read).await.map_err(db)?;
        all(rows, UnifiedSessionRow::into_domain)
    }
}

/// Upserts the outcome groups and outcomes of `tenant` (service-session facts reference them).
async fn seed_outcomes(conn: &mut sqlx::SqliteConnection, tenant: &str) -> Result<(), StoreError> {
    for (id, name) in outcome_group_seed() {
        sqlx::query(sql::SEED_OUTCOME_GROUP)
            .bind(tenant)
            .bind(id)
            .bind(name)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    for (id, name, group, handled) in outcome_seed() {
        sqlx::query(sql::SEED_OUTCOME)
            .bind(tenant)
            .bind(id)
            .bind(name)
            .bind(group)
            .bind(handled)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    Ok(())
}

impl Store for SqliteStore {
    fn list_tenants(&self) -> BoxFuture<'_, Result<Vec<Tenant>, StoreError>> {
        Box::pin(self.list_tenants_())
    }
    fn save_tenant(&self, tenant: Tenant) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.save_tenant_(tenant))
    }
    fn load_tenant(&self, tenant: TenantId) -> BoxFuture<'_, Result<TenantSnapshot, StoreError>> {
        Box::pin(self.load_tenant_(tenant))
    }
    fn save_service(&self, service: ServiceConfig) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.save_service_(service))
    }
    fn delete_service(
        &self,
        tenant: TenantId,
        service: ServiceId,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.delete(sql::DELETE_SERVICE, "service", tenant, service.to_string()))
    }
    fn save_user(&self, user: UserConfig) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.save_user_(user))
    }
    fn delete_user(&self, tenant: TenantId, user: UserId) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.delete(sql::DELETE_USER, "user", tenant, user.to_string()))
    }
    fn save_skill_category(&self, c: SkillCategory) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.save_skill_category_(c))
    }
    fn save_skill(&self, s: Skill) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.save_skill_(s))
    }
    fn save_profile(&self, p: ResponsibilityProfile) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.save_profile_(p))
    }
    fn save_policy(&self, p: DistributionPolicy) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.save_policy_(p))
    }
    fn save_not_available_reason(
        &self,
        r: NotAvailableReason,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.save_not_available_reason_(r))
    }
    fn snapshot_live_task(&self, t: LiveTaskSnapshot) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.snapshot_live_task_(t))
    }
    fn remove_live_task(
        &self,
        tenant: TenantId,
        task: TaskId,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.remove_live_task_(tenant, task))
    }
    fn load_live_tasks(
        &self,
        tenant: TenantId,
    ) -> BoxFuture<'_, Result<Vec<LiveTaskSnapshot>, StoreError>> {
        Box::pin(self.load_live_tasks_(tenant))
    }
    fn append_events(&self, events: Vec<TaskEvent>) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.append_events_(events))
    }
    fn task_events(
        &self,
        tenant: TenantId,
        task: TaskId,
    ) -> BoxFuture<'_, Result<Vec<TaskEvent>, StoreError>> {
        Box::pin(self.task_events_(tenant, task))
    }
    fn record_service_sessions(
        &self,
        facts: Vec<ServiceSessionFact>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.record_service_sessions_(facts))
    }
    fn record_user_sessions(
        &self,
        facts: Vec<UserSessionFact>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.record_user_sessions_(facts))
    }
    fn record_user_states(
        &self,
        facts: Vec<UserStateInterval>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.record_user_states_(facts))
    }
    fn service_sessions(
        &self,
        tenant: TenantId,
        task: Option<TaskId>,
    ) -> BoxFuture<'_, Result<Vec<ServiceSessionFact>, StoreError>> {
        Box::pin(self.service_sessions_(tenant, task))
    }
    fn user_sessions(
        &self,
        tenant: TenantId,
        task: Option<TaskId>,
    ) -> BoxFuture<'_, Result<Vec<UserSessionFact>, StoreError>> {
        Box::pin(self.user_sessions_(tenant, task))
    }
    fn purge_context(&self, before: Instant) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(self.purge_context_(before))
    }
}

impl AdminStore for SqliteStore {
    fn save_partner(&self, p: Partner) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.save_partner_(p))
    }
    fn list_partners(&self) -> BoxFuture<'_, Result<Vec<Partner>, StoreError>> {
        Box::pin(self.list_partners_())
    }
    fn save_org_unit(&self, u: OrgUnit) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.save_org_unit_(u))
    }
    fn list_org_units(&self, tenant: TenantId) -> BoxFuture<'_, Result<Vec<OrgUnit>, StoreError>> {
        Box::pin(async move {
            all(
                self.list(sql::LIST_ORG_UNITS, tenant).await?,
                OrgUnitRow::into_domain,
            )
        })
    }
    fn delete_org_unit(
        &self,
        tenant: TenantId,
        id: OrgUnitId,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.delete(sql::DELETE_ORG_UNIT, "org unit", tenant, id.to_string()))
    }
    fn save_workflow(&self, w: Workflow) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.save_workflow_(w))
    }
    fn list_workflows(&self, tenant: TenantId) -> BoxFuture<'_, Result<Vec<Workflow>, StoreError>> {
        Box::pin(async move {
            all(
                self.list(sql::LIST_WORKFLOWS, tenant).await?,
                WorkflowRow::into_domain,
            )
        })
    }
    fn delete_workflow(
        &self,
        tenant: TenantId,
        id: WorkflowId,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.delete(sql::DELETE_WORKFLOW, "workflow", tenant, id.to_string()))
    }
    fn save_opening_hours(&self, h: OpeningHours) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.save_opening_hours_(h))
    }
    fn list_opening_hours(
        &self,
        tenant: TenantId,
    ) -> BoxFuture<'_, Result<Vec<OpeningHours>, StoreError>> {
        Box::pin(async move {
            all(
                self.list(sql::LIST_OPENING_HOURS, tenant).await?,
                OpeningHoursRow::into_domain,
            )
        })
    }
    fn delete_opening_hours(
        &self,
        tenant: TenantId,
        id: Guid,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.delete(
            sql::DELETE_OPENING_HOURS,
            "opening hours",
            tenant,
            id.to_string(),
        ))
    }
    fn save_parameter(&self, p: ParameterDefinition) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.save_parameter_(p))
    }
    fn list_parameters(
        &self,
        tenant: TenantId,
    ) -> BoxFuture<'_, Result<Vec<ParameterDefinition>, StoreError>> {
        Box::pin(async move {
            all(
                self.list(sql::LIST_PARAMETERS, tenant).await?,
                ParameterRow::into_domain,
            )
        })
    }
    fn delete_parameter(
        &self,
        tenant: TenantId,
        id: ParameterId,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.delete(
            sql::DELETE_PARAMETER,
            "parameter",
            tenant,
            id.as_str().to_owned(),
        ))
    }
    fn save_trigger_subscription(
        &self,
        s: TriggerSubscription,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.save_trigger_subscription_(s))
    }
    fn list_trigger_subscriptions(
        &self,
        tenant: TenantId,
    ) -> BoxFuture<'_, Result<Vec<TriggerSubscription>, StoreError>> {
        Box::pin(async move {
            all(
                self.list(sql::LIST_TRIGGERS, tenant).await?,
                TriggerRow::into_domain,
            )
        })
    }
    fn delete_trigger_subscription(
        &self,
        tenant: TenantId,
        id: Guid,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.delete(
            sql::DELETE_TRIGGER,
            "trigger subscription",
            tenant,
            id.to_string(),
        ))
    }
    fn delete_skill_category(
        &self,
        tenant: TenantId,
        id: SkillCategoryId,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.delete(
            sql::DELETE_SKILL_CATEGORY,
            "skill category",
            tenant,
            id.to_string(),
        ))
    }
    fn delete_skill(&self, tenant: TenantId, id: SkillId) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.delete(sql::DELETE_SKILL, "skill", tenant, id.to_string()))
    }
    fn delete_profile(
        &self,
        tenant: TenantId,
        id: ProfileId,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.delete(
            sql::DELETE_PROFILE,
            "responsibility profile",
            tenant,
            id.to_string(),
        ))
    }
    fn delete_policy(
        &self,
        tenant: TenantId,
        id: PolicyId,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.delete(
            sql::DELETE_POLICY,
            "distribution policy",
            tenant,
            id.to_string(),
        ))
    }
    fn delete_not_available_reason(
        &self,
        tenant: TenantId,
        id: NotAvailableReasonId,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.delete(
            sql::DELETE_NOT_AVAILABLE_REASON,
            "not-available reason",
            tenant,
            id.to_string(),
        ))
    }
    fn enqueue_webhook(
        &self,
        tenant: TenantId,
        subscription: Guid,
        payload: String,
        now: Instant,
    ) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(self.enqueue_webhook_(tenant, subscription, payload, now))
    }
    fn due_webhooks(
        &self,
        tenant: TenantId,
        now: Instant,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<WebhookDelivery>, StoreError>> {
        Box::pin(self.due_webhooks_(tenant, now, limit))
    }
    fn webhook_delivered(
        &self,
        tenant: TenantId,
        id: u64,
        at: Instant,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.webhook_delivered_(tenant, id, at))
    }
    fn webhook_failed(
        &self,
        tenant: TenantId,
        id: u64,
        error: String,
        retry_at: Instant,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.webhook_failed_(tenant, id, error, retry_at))
    }
}

impl ReportingStore for SqliteStore {
    fn outcome_groups(
        &self,
        tenant: TenantId,
    ) -> BoxFuture<'_, Result<Vec<StoredOutcomeGroup>, StoreError>> {
        Box::pin(async move {
            all(
                self.list(sql::LIST_OUTCOME_GROUPS, tenant).await?,
                OutcomeGroupRow::into_domain,
            )
        })
    }
    fn outcomes(&self, tenant: TenantId) -> BoxFuture<'_, Result<Vec<StoredOutcome>, StoreError>> {
        Box::pin(async move {
            all(
                self.list(sql::LIST_OUTCOMES, tenant).await?,
                OutcomeRow::into_domain,
            )
        })
    }
    fn user_states(
        &self,
        tenant: TenantId,
        user: Option<UserId>,
        from: Instant,
        to: Instant,
    ) -> BoxFuture<'_, Result<Vec<UserStateInterval>, StoreError>> {
        Box::pin(self.user_states_(tenant, user, from, to))
    }
    fn unified_sessions(
        &self,
        tenant: TenantId,
        task: Option<TaskId>,
    ) -> BoxFuture<'_, Result<Vec<UnifiedSession>, StoreError>> {
        Box::pin(self.unified_sessions_(tenant, task))
    }
}
