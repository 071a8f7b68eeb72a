//! Browser sessions: a person signs in with the API token and a name, and gets a cookie that
//! is HttpOnly and SameSite=Strict, so that scripts cannot read it and other sites cannot send
//! it. Decisions made with a session are recorded under the session's name.
//!
//! NOTE: sessions live in this process's memory, so a restart signs everyone out, and several
//! API replicas would each need their own sign-in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::distr::{Alphanumeric, SampleString};

/// Name of the session cookie.
pub const COOKIE: &str = "dbagent_session";
/// Time a session stays valid after sign-in.
pub const LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);
/// Sessions kept at most; signing in beyond it first drops expired sessions, then the oldest.
const MAX_SESSIONS: usize = 10_000;

/// A signed-in person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub name: String,
    expires_at: Instant,
}

/// The open sessions, by session id.
#[derive(Debug, Clone, Default)]
pub struct Sessions {
    open: Arc<Mutex<HashMap<String, Session>>>,
}

impl Sessions {
    /// Opens a session for `name` and returns its id, the cookie's value.
    pub fn open(&self, name: &str) -> String {
        let id = Alphanumeric.sample_string(&mut rand::rng(), 48);
        let now = Instant::now();
        let mut open = self.open.lock().expect("the session map is never poisoned");
        if open.len() >= MAX_SESSIONS {
            open.retain(|_, session| session.expires_at > now);
        }
        if open.len() >= MAX_SESSIONS
            && let Some(oldest) = open
                .iter()
                .min_by_key(|(_, session)| session.expires_at)
                .map(|(id, _)| id.clone())
        {
            open.remove(&oldest);
        }
        let session = Session {
            name: name.to_string(),
            expires_at: now + LIFETIME,
        };
        open.insert(id.clone(), session);
        id
    }

    /// Returns the session with this id unless it expired.
    pub fn find(&self, id: &str) -> Option<Session> {
        let mut open = self.open.lock().expect("the session map is never poisoned");
        let session = open.get(id)?.clone();
        if session.expires_at <= Instant::now() {
            open.remove(id);
            return None;
        }
        Some(session)
    }

    pub fn close(&self, id: &str) {
        self.open
            .lock()
            .expect("the session map is never poisoned")
            .remove(id);
    }
}

/// Returns the value of the session cookie in a `Cookie` header, if any.
pub fn cookie_value(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// Renders the `Set-Cookie` value that stores `id`, or that clears the cookie when `id` is
/// empty.
pub fn set_cookie(id: &str) -> String {
    let max_age = if id.is_empty() { 0 } else { LIFETIME.as_secs() };
    format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opened_session_is_found_until_closed() {
        let sessions = Sessions::default();
        let id = sessions.open("dba@example.com");
        assert_eq!(sessions.find(&id).unwrap().name, "dba@example.com");
        sessions.close(&id);
        assert!(sessions.find(&id).is_none());
    }

    #[test]
    fn cookie_is_found_among_others() {
        assert_eq!(cookie_value("a=1; dbagent_session=xyz; b=2"), Some("xyz"));
        assert_eq!(cookie_value("a=1"), None);
    }

    #[test]
    fn set_cookie_is_http_only_and_strict() {
        let value = set_cookie("abc");
        assert!(value.contains("HttpOnly"));
        assert!(value.contains("SameSite=Strict"));
        assert!(set_cookie("").contains("Max-Age=0"));
    }
}
