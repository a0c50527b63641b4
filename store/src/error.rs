//! Mapping driver errors to the port's typed [`StoreError`].

use stratus_routing::port::StoreError;

/// Classifies a driver error: broken data → `Constraint`, an unreachable or restarting database →
/// `Unavailable` (the writer retries those), anything else → `Other`.
pub(crate) fn db(e: sqlx::Error) -> StoreError {
    use sqlx::error::ErrorKind;
    match e {
        sqlx::Error::Database(d) => match d.kind() {
            ErrorKind::UniqueViolation
            | ErrorKind::ForeignKeyViolation
            | ErrorKind::NotNullViolation
            | ErrorKind::CheckViolation
            | ErrorKind::ExclusionViolation => StoreError::Constraint(d.message().to_owned()),
            // Data the database cannot hold (PostgreSQL class 22: a NUL byte, a value too long;
            // class 54: an index row too large) is bad input, not a server failure.
            _ if d.code().as_deref().is_some_and(bad_data_code) => {
                StoreError::Constraint(d.message().to_owned())
            }
            _ if d.code().as_deref().is_some_and(transient_code) => {
                StoreError::Unavailable(d.message().to_owned())
            }
            _ => StoreError::Other(d.message().to_owned()),
        },
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => StoreError::Unavailable(e.to_string()),
        other => StoreError::Other(other.to_string()),
    }
}

/// Error codes meaning "try again later": PostgreSQL connection exceptions (class 08), shutdown
/// and start-up (57P01–57P03), too many connections (53300), serialization failures and deadlocks
/// (40001, 40P01); SQLite BUSY and LOCKED (primary codes 5 and 6, extended codes included).
fn transient_code(code: &str) -> bool {
    // PostgreSQL SQLSTATEs have five characters (many all digits, like 08006 or 53300);
    // SQLite's codes are numbers of at most four digits.
    if code.len() < 5
        && let Ok(n) = code.parse::<i32>()
    {
        return matches!(n & 0xff, 5 | 6);
    }
    code.starts_with("08")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "53300" | "40001" | "40P01"
        )
}

fn bad_data_code(code: &str) -> bool {
    code.len() == 5 && (code.starts_with("22") || code.starts_with("54"))
}

/// A stored value did not decode into the domain type: the database holds data this version
/// cannot read.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("stored {what} is unreadable: {detail}"))
}

/// `rows_affected == 0` on a keyed update or delete.
pub(crate) fn found(rows: u64, entity: &'static str, id: impl ToString) -> Result<(), StoreError> {
    if rows == 0 {
        Err(StoreError::NotFound {
            entity,
            id: id.to_string(),
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::transient_code;

    #[test]
    fn postgres_and_sqlite_codes_are_told_apart() {
        for pg in ["08006", "08001", "53300", "40001", "57P01", "40P01"] {
            assert!(transient_code(pg), "{pg}");
        }
        assert!(transient_code("5"), "SQLITE_BUSY");
        assert!(transient_code("517"), "SQLITE_BUSY_SNAPSHOT");
        assert!(!transient_code("23505"), "unique violation");
        assert!(!transient_code("19"), "SQLITE_CONSTRAINT");
    }
}
