//! Settling a received message after its handler ran.

use control::messaging::{Message, Received};
use tracing::{error, warn};

use crate::error::chain;
use crate::{Platform, Result};

/// Dead-letter reason for a message whose handler failed in a way a retry cannot fix.
pub const HANDLER_FAILED: &str = "HandlerFailed";

impl Platform {
    /// Completes a handled message, returns it to the queue after a retryable failure, and
    /// moves it to the dead-letter queue after any other failure. Settling errors are logged,
    /// because the bus delivers an unsettled message again once its lock expires.
    pub(crate) async fn settle<T: Message>(&self, received: &Received<T>, outcome: Result<()>) {
        let message_id = &received.delivery.message_id;
        let run_id = received.envelope.correlation_id;
        let settled = match outcome {
            Ok(()) => self.control.complete(received).await,
            Err(failure) if failure.is_retryable() => {
                warn!(
                    queue = T::QUEUE, message.id = %message_id, run.id = %run_id,
                    error = %chain(&failure), "handling failed; the message will be retried"
                );
                self.control.abandon(received).await
            }
            Err(failure) => {
                let cause = chain(&failure);
                error!(
                    queue = T::QUEUE, message.id = %message_id, run.id = %run_id,
                    error = %cause, "handling failed; moving the message to the dead-letter queue"
                );
                self.dead_letter(received, &cause).await
            }
        };
        if let Err(failure) = settled {
            warn!(
                queue = T::QUEUE, message.id = %message_id, run.id = %run_id,
                error = %chain(&failure), "failed to settle a message; it will be delivered again"
            );
        }
    }

    async fn dead_letter<T: Message>(
        &self,
        received: &Received<T>,
        cause: &str,
    ) -> control::Result<()> {
        let token = &received.delivery.lock_token;
        match self
            .control
            .bus
            .dead_letter(T::QUEUE, token, HANDLER_FAILED, cause)
            .await
        {
            Ok(()) | Err(bus::Error::LockLost { .. }) => Ok(()),
            Err(failure) => Err(failure.into()),
        }
    }
}
