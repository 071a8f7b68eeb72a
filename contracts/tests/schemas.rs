//! The committed JSON Schemas must match the types. Run with `UPDATE_SCHEMAS=1` to rewrite them
//! after changing a message.

use std::path::PathBuf;

#[test]
fn committed_schemas_are_current() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();

    for (file, generated) in contracts::schema::message_schemas() {
        let path = dir.join(file);
        if update {
            std::fs::write(&path, &generated).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is stale; run `UPDATE_SCHEMAS=1 cargo test -p contracts` and commit the result",
            path.display()
        );
    }
}
