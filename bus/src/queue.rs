use std::time::Duration;

/// Suffix that Service Bus appends to a queue's path to name its dead-letter queue.
pub const DEAD_LETTER_SUFFIX: &str = "/$DeadLetterQueue";

/// Maximum length of a queue name in Service Bus, in characters.
pub const MAX_QUEUE_NAME_LEN: usize = 260;

/// Dead-letter reason given to messages that exceeded the queue's maximum delivery count.
pub const MAX_DELIVERY_COUNT_EXCEEDED: &str = "MaxDeliveryCountExceeded";

/// Settings of a queue, with the defaults of a Service Bus queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueOptions {
    /// How long a received message stays locked to its receiver.
    pub lock_duration: Duration,
    /// Deliveries after which an unsettled message moves to the dead-letter queue.
    pub max_delivery_count: u32,
    /// How long a message id is remembered to drop a second send of it.
    pub duplicate_detection_window: Duration,
}

impl Default for QueueOptions {
    fn default() -> QueueOptions {
        QueueOptions {
            lock_duration: Duration::from_secs(30),
            max_delivery_count: 10,
            duplicate_detection_window: Duration::from_secs(10 * 60),
        }
    }
}

impl QueueOptions {
    /// Checks that a queue with these options can deliver messages.
    pub fn validate(&self) -> crate::Result<()> {
        if self.lock_duration < Duration::from_millis(1) {
            return Err(crate::Error::invalid(
                "lock duration",
                &format!("{:?}", self.lock_duration),
                "a lock must last at least one millisecond",
            ));
        }
        if self.max_delivery_count == 0 {
            return Err(crate::Error::invalid(
                "maximum delivery count",
                "0",
                "a message must be deliverable at least once",
            ));
        }
        Ok(())
    }
}

/// Name of the dead-letter queue that belongs to `queue`.
pub fn dead_letter_queue_name(queue: &str) -> String {
    format!("{queue}{DEAD_LETTER_SUFFIX}")
}

/// Returns the queue whose dead-letter queue `queue` is, or `None` for an ordinary queue.
pub fn parent_of_dead_letter_queue(queue: &str) -> Option<&str> {
    queue.strip_suffix(DEAD_LETTER_SUFFIX)
}

/// Checks a name for a queue to create, with Service Bus's rules: letters, digits, `.`, `-`,
/// `_` and `/`, no leading or trailing `/`, and not a dead-letter queue's name.
pub fn validate_queue_name(queue: &str) -> crate::Result<()> {
    let reject = |reason: &str| Err(crate::Error::invalid("queue name", queue, reason));
    if queue.is_empty() {
        return reject("a queue name is required");
    }
    if queue.chars().count() > MAX_QUEUE_NAME_LEN {
        return reject("a queue name has at most 260 characters");
    }
    if parent_of_dead_letter_queue(queue).is_some() {
        return reject("dead-letter queues are created along with their queue");
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/');
    if !queue.chars().all(allowed) {
        return reject("use only letters, digits, '.', '-', '_' and '/'");
    }
    if queue.starts_with('/') || queue.ends_with('/') {
        return reject("a queue name cannot start or end with '/'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_letter_name_matches_service_bus() {
        assert_eq!(dead_letter_queue_name("jobs"), "jobs/$DeadLetterQueue");
    }

    #[test]
    fn parent_of_dead_letter_queue_strips_suffix() {
        assert_eq!(
            parent_of_dead_letter_queue("jobs/$DeadLetterQueue"),
            Some("jobs")
        );
        assert_eq!(parent_of_dead_letter_queue("jobs"), None);
    }

    #[test]
    fn defaults_match_service_bus() {
        let options = QueueOptions::default();
        assert_eq!(options.lock_duration, Duration::from_secs(30));
        assert_eq!(options.max_delivery_count, 10);
        assert_eq!(options.duplicate_detection_window, Duration::from_secs(600));
    }

    #[test]
    fn zero_max_delivery_count_is_invalid() {
        let options = QueueOptions {
            max_delivery_count: 0,
            ..QueueOptions::default()
        };
        assert!(options.validate().is_err());
    }

    #[test]
    fn queue_names_are_checked() {
        let cases = [
            ("triggers", true),
            ("team.a/jobs-1_x", true),
            ("", false),
            ("jobs/$DeadLetterQueue", false),
            ("jobs q", false),
            ("/jobs", false),
            ("jobs/", false),
        ];
        for (name, valid) in cases {
            assert_eq!(
                validate_queue_name(name).is_ok(),
                valid,
                "queue name {name:?}"
            );
        }
    }

    #[test]
    fn overlong_queue_name_is_invalid() {
        assert!(validate_queue_name(&"q".repeat(MAX_QUEUE_NAME_LEN + 1)).is_err());
    }
}
