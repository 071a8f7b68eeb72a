//! Typed identifiers, so that a run id cannot be passed where an issue id is expected.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// Generates a random (version 4) id.
            #[cfg(feature = "new-ids")]
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }

            /// Derives a stable (version 5) id from another id and a name, so that a handler that
            /// runs twice produces the same id and the bus or the store drops the repeat.
            #[cfg(feature = "new-ids")]
            pub fn derived(from: Uuid, name: &str) -> Self {
                Self(Uuid::new_v5(&from, name.as_bytes()))
            }
        }

        #[cfg(feature = "new-ids")]
        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(text).map(Self)
            }
        }
    };
}

uuid_id!(
    /// Identifies one alert.
    AlertId
);
uuid_id!(
    /// Identifies one run: the handling of one alert from investigation to verification. Bus
    /// messages carry it as their correlation id.
    RunId
);
uuid_id!(
    /// Identifies one issue that a run opened.
    IssueId
);
uuid_id!(
    /// Identifies one standing permission.
    InstructionId
);
uuid_id!(
    /// Identifies one bus message; the bus drops a second message with the same id.
    MessageId
);

/// Identifies a monitored server: a short name chosen at registration, such as `local-target`
/// or an Azure resource name.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[serde(transparent)]
pub struct ServerId(pub String);

impl fmt::Display for ServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ServerId {
    fn from(name: &str) -> Self {
        ServerId(name.to_string())
    }
}
