//! The locks and waits of `CREATE INDEX CONCURRENTLY`, and the index a failed build leaves.
//!
//! These facts hold for PostgreSQL 14 and newer and carry no concern of their own. The figures
//! that make them matter are judged in [`super::capacity`].

use super::{Facts, Finding};

pub(super) fn lock_level(facts: &Facts) -> Finding {
    let table = &facts.table;
    let text = format!(
        "CREATE INDEX CONCURRENTLY takes a SHARE UPDATE EXCLUSIVE lock on {table}. Reads and \
         writes (SELECT, INSERT, UPDATE, DELETE) go on, but other DDL, VACUUM (autovacuum \
         included), ANALYZE and other index builds on {table} wait until the build ends. A \
         statement that needs a stronger lock, such as ALTER TABLE, queues behind the build, and \
         new queries on {table} then queue behind that statement, so schema changes on this \
         table should not run during a build."
    );
    Finding::info("Locks", text)
}

pub(super) fn waits(facts: &Facts) -> Finding {
    let text = format!(
        "The build scans {table} twice and waits three times for transactions that started \
         before it: twice for transactions that could write to the table, and once for every \
         transaction in this database whose snapshot is older than the build's. One long-running \
         transaction therefore stalls the build, and {table} stays locked against DDL and vacuum \
         until that transaction ends. An autovacuum already running on {table} is cancelled \
         after deadlock_timeout, unless it is preventing transaction ID wraparound, in which case \
         the build waits for it.",
        table = facts.table
    );
    Finding::info("Waits", text)
}

pub(super) fn failure(facts: &Facts) -> Finding {
    let text = format!(
        "If the build fails or is cancelled, for example when the disk fills or a session \
         cancels it, PostgreSQL leaves {index} behind as an INVALID index. Queries ignore it, \
         but every write to {table} still updates it. DBAgent detects it and drops it with DROP \
         INDEX CONCURRENTLY, which does not block reads or writes either.",
        index = facts.action.index_name,
        table = facts.table,
    );
    Finding::info("Failure", text)
}
