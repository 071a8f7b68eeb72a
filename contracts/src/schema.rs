//! JSON Schemas of the bus messages, so that components written in other languages, and the
//! Azure side, can validate what travels on the bus.

use schemars::{JsonSchema, schema_for};

use crate::{Approval, Completion, Envelope, Trigger};

/// File name and pretty-printed JSON Schema of each bus message envelope.
pub fn message_schemas() -> Vec<(&'static str, String)> {
    vec![
        (
            "trigger.schema.json",
            render::<Envelope<Trigger>>("TriggerEnvelope"),
        ),
        (
            "completion.schema.json",
            render::<Envelope<Completion>>("CompletionEnvelope"),
        ),
        (
            "approval.schema.json",
            render::<Envelope<Approval>>("ApprovalEnvelope"),
        ),
    ]
}

fn render<T: JsonSchema>(title: &str) -> String {
    let mut schema = schema_for!(T);
    // All three are `Envelope<T>`, which schemars would title alike.
    schema.insert("title".to_string(), title.into());
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}
