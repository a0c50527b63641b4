//! Both back ends migrate through the same versions, creating the same tables and indexes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

/// Names after `CREATE TABLE` / `CREATE [UNIQUE] INDEX` in a migration.
fn created(sql: &str) -> BTreeSet<String> {
    let words: Vec<&str> = sql.split_whitespace().filter(|w| *w != "UNIQUE").collect();
    words
        .windows(3)
        .filter(|w| w[0] == "CREATE" && (w[1] == "TABLE" || w[1] == "INDEX"))
        .map(|w| format!("{} {}", w[1], w[2]))
        .collect()
}

#[test]
fn both_back_ends_list_the_same_versions_and_objects() {
    let [(sqlite_name, sqlite), (pg_name, pg)] = stratus_store::migrations();
    assert_eq!((sqlite_name, pg_name), ("sqlite", "postgres"));
    let versions = |m: &sqlx::migrate::Migrator| {
        m.iter()
            .map(|x| (x.version, x.description.to_string()))
            .collect::<Vec<_>>()
    };
    assert!(!versions(sqlite).is_empty());
    assert_eq!(versions(sqlite), versions(pg));
    for (a, b) in sqlite.iter().zip(pg.iter()) {
        let (ta, tb) = (created(a.sql.as_str()), created(b.sql.as_str()));
        assert!(!ta.is_empty(), "migration {} creates nothing", a.version);
        assert_eq!(
            ta, tb,
            "migration {} differs between the back ends",
            a.version
        );
    }
}

#[test]
fn the_schema_covers_every_entity_of_the_data_model() {
    let [(_, sqlite), _] = stratus_store::migrations();
    let all: BTreeSet<String> = sqlite
        .iter()
        .flat_map(|m| created(m.sql.as_str()))
        .collect();
    for table in [
        "partners",
        "tenants",
        "org_units",
        "services",
        "users",
        "memberships",
        "skill_categories",
        "skills",
        "skill_levels",
        "user_skills",
        "responsibility_profiles",
        "distribution_policies",
        "workflows",
        "opening_hours",
        "parameters",
        "not_available_reasons",
        "trigger_subscriptions",
        "webhook_outbox",
        "live_tasks",
        "task_events",
        "unified_sessions",
        "service_sessions",
        "user_sessions",
        "user_state_intervals",
        "outcomes",
        "outcome_groups",
    ] {
        assert!(all.contains(&format!("TABLE {table}")), "no table {table}");
    }
}
